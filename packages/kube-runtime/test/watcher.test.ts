import { afterEach, describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff.js';
import { ApiError, KubeClient, ResourceClient } from '../src/client.js';
import { FakeClock } from '../src/clock.js';
import { SinkError } from '../src/sink.js';
import type { KubeObject } from '../src/types.js';
import { WatchStream } from '../src/watch-stream.js';
import {
  classifyFailure,
  endsInitialEvents,
  type FailureContext,
  type FailureKind,
  GONE_LINE,
  parseWatchLine,
  runWatcher,
  SKIP_LINE,
  transition,
  type WatchEvent,
  type WatcherInput,
  type WatcherState,
  type WatchLine,
  type WatchLineEvent,
  watch,
} from '../src/watcher.js';
import { line, list, ScriptedServer, status, stream, thing } from './scripted-server.js';

const resource = { group: 'test.example', version: 'v1', plural: 'things', kind: 'Thing' };
let server: ScriptedServer;
let stop: AbortController;

afterEach(async () => {
  stop?.abort();
  await server?.close();
});

/** Runs a watcher against the scripted server and collects events until `count` arrived. */
async function collect(count: number, options: Parameters<typeof watch>[1] = {}) {
  const client = new ResourceClient<KubeObject>(
    new KubeClient(server.kubeConfig()),
    resource,
    'default',
  );
  stop = new AbortController();
  const events: WatchEvent[] = [];
  const iterator = watch(
    client,
    // List-then-watch semantics unless a test asks for watch-list.
    { backoff: { initialMs: 1, maxMs: 5, jitter: 0 }, watchList: 'never', ...options },
    stop.signal,
  );
  for await (const event of iterator) {
    events.push(event);
    if (events.length >= count) break;
  }
  return events;
}

const summary = (events: WatchEvent[]) =>
  events.map((e) =>
    'object' in e
      ? `${e.type}:${e.object.metadata.name}`
      : 'resourceVersion' in e
        ? `${e.type}:${e.resourceVersion}`
        : e.type,
  );
const watchRequests = () => server.requests.filter((u) => u.searchParams.get('watch') === 'true');
const listRequests = () => server.requests.filter((u) => u.searchParams.get('watch') !== 'true');

describe('watcher transitions', () => {
  const listing: WatcherState = { phase: 'listing' };
  const watching: WatcherState = { phase: 'watching', resourceVersion: '5' };
  it.each<[string, WatcherState, Parameters<typeof transition>[1], WatcherState]>([
    [
      'list done → watch from its version',
      listing,
      { type: 'listed', resourceVersion: '7' },
      { phase: 'watching', resourceVersion: '7' },
    ],
    [
      'list failed → back off, then list',
      listing,
      { type: 'listFailed', delayMs: 10 },
      { phase: 'backingOff', delayMs: 10, resume: listing },
    ],
    ['expired continue → list again', listing, { type: 'gone' }, listing],
    [
      'normal close → resume from last version',
      watching,
      { type: 'watchClosed', resourceVersion: '9' },
      { phase: 'watching', resourceVersion: '9' },
    ],
    [
      'stall → resume at once',
      watching,
      { type: 'stalled', resourceVersion: '9' },
      { phase: 'watching', resourceVersion: '9' },
    ],
    ['410 → relist', watching, { type: 'gone' }, listing],
    [
      'failure → back off, then watch',
      watching,
      { type: 'watchFailed', resourceVersion: '9', delayMs: 3 },
      { phase: 'backingOff', delayMs: 3, resume: { phase: 'watching', resourceVersion: '9' } },
    ],
    [
      'waited → resume',
      { phase: 'backingOff', delayMs: 3, resume: listing },
      { type: 'waited' },
      listing,
    ],
    ['stop from anywhere', watching, { type: 'stop' }, { phase: 'stopped' }],
    [
      'stopped stays stopped',
      { phase: 'stopped' },
      { type: 'listed', resourceVersion: '1' },
      { phase: 'stopped' },
    ],
  ])('%s', (_name, state, input, expected) => {
    expect(transition(state, input)).toEqual(expected);
  });

  // Streams are opaque handles to the state machine: never opened here.
  const stream = new WatchStream(new FakeClock(), 1000, new AbortController().signal, '');
  stream.close();
  const watchListing: WatcherState = { phase: 'watchListing', stream };
  const reading: WatcherState = { phase: 'watching', resourceVersion: '5', stream };
  const failure = new Error('consumer failed');
  it.each<[string, WatcherState, WatcherInput, WatcherState]>([
    [
      'watch-list opened → read its initial events',
      listing,
      { type: 'watchListOpened', stream },
      watchListing,
    ],
    ['watch-list refused → list', listing, { type: 'watchListRefused' }, listing],
    [
      'watch-list request failed → back off, then list',
      listing,
      { type: 'watchFailed', resourceVersion: '', delayMs: 4 },
      { phase: 'backingOff', delayMs: 4, resume: listing },
    ],
    [
      'watch-list request stalled → list at once',
      listing,
      { type: 'stalled', resourceVersion: '' },
      listing,
    ],
    [
      'initial events done → watch on the same stream',
      watchListing,
      { type: 'initialEventsDone', resourceVersion: '8' },
      { phase: 'watching', resourceVersion: '8', stream },
    ],
    [
      'watch-list ended early → back off, then list',
      watchListing,
      { type: 'listFailed', delayMs: 6 },
      { phase: 'backingOff', delayMs: 6, resume: listing },
    ],
    [
      'watch-list stream failed → back off, then list',
      watchListing,
      { type: 'watchFailed', resourceVersion: '3', delayMs: 6 },
      { phase: 'backingOff', delayMs: 6, resume: listing },
    ],
    ['watch-list 410 → list again', watchListing, { type: 'gone' }, listing],
    [
      'watch-list stalled → list again',
      watchListing,
      { type: 'stalled', resourceVersion: '3' },
      listing,
    ],
    [
      'watch-list refused in its stream → list',
      watchListing,
      { type: 'watchListRefused' },
      listing,
    ],
    ['watch opened → read it', watching, { type: 'watchOpened', stream }, reading],
    [
      'open watch closed → resume from its last version',
      reading,
      { type: 'watchClosed', resourceVersion: '9' },
      { phase: 'watching', resourceVersion: '9' },
    ],
    [
      'open watch failed → back off, then watch from its last version',
      reading,
      { type: 'watchFailed', resourceVersion: '9', delayMs: 2 },
      { phase: 'backingOff', delayMs: 2, resume: { phase: 'watching', resourceVersion: '9' } },
    ],
    ['open watch 410 → relist', reading, { type: 'gone' }, listing],
    [
      'stop while backing off',
      { phase: 'backingOff', delayMs: 3, resume: listing },
      { type: 'stop' },
      { phase: 'stopped' },
    ],
    ['stop while reading a watch-list', watchListing, { type: 'stop' }, { phase: 'stopped' }],
    [
      'the sink failed → stopped, carrying what it threw',
      reading,
      { type: 'sinkFailed', error: failure },
      { phase: 'stopped', failure: { error: failure } },
    ],
    [
      'the sink failed while listing → stopped',
      listing,
      { type: 'sinkFailed', error: failure },
      { phase: 'stopped', failure: { error: failure } },
    ],
    ['an unexpected input changes nothing', listing, { type: 'waited' }, listing],
    [
      'backing off ignores all but waited',
      { phase: 'backingOff', delayMs: 3, resume: listing },
      { type: 'listed', resourceVersion: '1' },
      { phase: 'backingOff', delayMs: 3, resume: listing },
    ],
  ])('%s', (_name, state, input, expected) => {
    expect(transition(state, input)).toEqual(expected);
  });
});

describe('classifyFailure', () => {
  const api = (code: number, reason = 'X', causes?: unknown[]) =>
    new ApiError(code, { code, reason, ...(causes ? { details: { causes } } : {}) }, 'watch');
  const tooLarge = api(504, 'Timeout', [{ reason: 'ResourceVersionTooLarge' }]);
  const watch: FailureContext = { list: false, aborted: false, stalled: false, mayFallBack: false };
  const list: FailureContext = { ...watch, list: true };
  const firstWatchList: FailureContext = { ...watch, mayFallBack: true };
  it.each<[string, unknown, FailureContext, FailureKind]>([
    [
      "the sink's failure, even after an abort",
      new SinkError(new Error('x')),
      { ...watch, aborted: true },
      'sinkFailed',
    ],
    ['anything after an abort', api(500), { ...watch, aborted: true }, 'stopped'],
    ['an expired continue token', api(410, 'Expired'), list, 'gone'],
    ['a too large resourceVersion on a list: retried', tooLarge, list, 'retry'],
    ['a 500 on a list', api(500), list, 'retry'],
    ['a 422 on a first watch-list', api(422, 'Invalid'), firstWatchList, 'watchListRefused'],
    ['a 400 on a first watch-list', api(400, 'BadRequest'), firstWatchList, 'watchListRefused'],
    ['a 415 on a first watch-list', api(415), firstWatchList, 'watchListRefused'],
    ['a 422 on a watch', api(422, 'Invalid'), watch, 'retry'],
    ['a 500 on a first watch-list', api(500), firstWatchList, 'retry'],
    ['a stall', new Error('aborted'), { ...watch, stalled: true }, 'stalled'],
    ['an HTTP 410', api(410, 'Gone'), watch, 'gone'],
    ['a too large resourceVersion', tooLarge, watch, 'gone'],
    ['a 504 of another cause', api(504, 'Timeout', [{ reason: 'Other' }]), watch, 'retry'],
    ['a 403', api(403, 'Forbidden'), watch, 'retry'],
    ['a reset connection', new Error('socket hang up'), watch, 'retry'],
  ])('%s → %s', (_name, error, context, expected) => {
    expect(classifyFailure(error, context)).toBe(expected);
  });
});

describe('parseWatchLine', () => {
  const object = { kind: 'Thing', metadata: { name: 'a', resourceVersion: '4' } };
  const end = {
    metadata: { resourceVersion: '5', annotations: { 'k8s.io/initial-events-end': 'true' } },
  };
  it.each<[string, string, WatchLine]>([
    ['an event', JSON.stringify({ type: 'ADDED', object }), { type: 'ADDED', object }],
    ['a bookmark', JSON.stringify({ type: 'BOOKMARK', object }), { type: 'BOOKMARK', object }],
    [
      'an in-stream 410',
      JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }),
      GONE_LINE,
    ],
    ['no object', JSON.stringify({ type: 'ADDED' }), SKIP_LINE],
    ['a null object', JSON.stringify({ type: 'ADDED', object: null }), SKIP_LINE],
    ['no type', JSON.stringify({ object }), SKIP_LINE],
    ['not an object', '42', SKIP_LINE],
  ])('%s', (_name, text, expected) => {
    expect(parseWatchLine(text)).toEqual(expected);
  });

  it('hands on the parsed line itself as the event: no wrapper, no copy', () => {
    const read = parseWatchLine(JSON.stringify({ type: 'ADDED', object, extra: 1 }));
    expect(read).toEqual({ type: 'ADDED', object, extra: 1 });
  });

  it.each<[string, unknown, boolean]>([
    ['the end of the initial events', { type: 'BOOKMARK', object: end }, true],
    ['a plain bookmark', { type: 'BOOKMARK', object }, false],
    ['the annotation on an ADDED', { type: 'ADDED', object: end }, false],
    [
      'the annotation set to anything but "true"',
      {
        type: 'BOOKMARK',
        object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'yes' } } },
      },
      false,
    ],
    ['a bookmark without metadata', { type: 'BOOKMARK', object: {} }, false],
  ])('tells %s', (_name, event, ends) => {
    expect(endsInitialEvents(parseWatchLine(JSON.stringify(event)) as WatchLineEvent)).toBe(ends);
  });

  it('reads an in-stream error other than 410 as a failure carrying its Status', () => {
    const read = parseWatchLine(
      JSON.stringify({
        type: 'ERROR',
        object: { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd' },
      }),
    );
    expect(read).toBeInstanceOf(ApiError);
    expect(read).toMatchObject({ code: 500, reason: 'InternalError' });
  });

  it('reads a line that is not JSON as a failure that does not echo it', () => {
    const read = parseWatchLine('{"type":"ADDED","object":{"secret":"hunter2"');
    expect(read).toBeInstanceOf(Error);
    expect((read as Error).message).toBe('watch stream carried a line that is not JSON');
  });
});

describe('Backoff', () => {
  it('doubles from 0.8 s to 30 s, honours a longer Retry-After, and resets after a quiet period', () => {
    const clock = new FakeClock();
    const backoff = new Backoff({ jitter: 0 }, { clock });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([800, 1600, 3200]);
    expect(backoff.next(20)).toBe(20_000);
    for (let i = 0; i < 10; i++) backoff.next();
    expect(backoff.next()).toBe(30_000);
    clock.advance(200_000);
    expect(backoff.next()).toBe(800);
  });

  it.each([
    [60, 30_000],
    [86_400, 30_000],
    [1e300, 30_000],
    [Number.POSITIVE_INFINITY, 30_000],
    [Number.NaN, 800],
    [-5, 800],
  ])('caps a Retry-After of %d s at its maximum (never longer, never a NaN)', (seconds, delay) => {
    expect(new Backoff({ jitter: 0 }).next(seconds)).toBe(delay);
  });

  it('jitters within the bound', () => {
    const low = new Backoff({ jitter: 0.2 }, { random: () => 0 }).next();
    const high = new Backoff({ jitter: 0.2 }, { random: () => 1 }).next();
    expect([low, high]).toEqual([640, 960]);
  });
});

describe('watcher against a scripted server', () => {
  it('parses an event split mid-JSON and many events in one chunk, then resumes from the last version', async () => {
    server = await ScriptedServer.start();
    const a = line('ADDED', thing('a', '2'));
    server.script(
      list([], '1'),
      stream([
        a.slice(0, 17),
        a.slice(17) + line('ADDED', thing('b', '3')) + line('MODIFIED', thing('a', '4')),
      ]),
    );
    // Keep the watcher running until it has resumed (a third request), then stop it.
    const client = new ResourceClient<KubeObject>(
      new KubeClient(server.kubeConfig()),
      resource,
      'default',
    );
    stop = new AbortController();
    const events: WatchEvent[] = [];
    const loop = (async () => {
      for await (const event of watch(
        client,
        { backoff: { initialMs: 1, jitter: 0 }, watchList: 'never' },
        stop.signal,
      ))
        events.push(event);
    })();
    await server.requested(3);
    const [firstWatch, secondWatch] = watchRequests();
    expect(firstWatch?.searchParams.get('resourceVersion')).toBe('1');
    expect(firstWatch?.searchParams.get('allowWatchBookmarks')).toBe('true');
    const timeout = Number(firstWatch?.searchParams.get('timeoutSeconds'));
    expect(timeout).toBeGreaterThanOrEqual(300);
    expect(timeout).toBeLessThanOrEqual(600);
    expect(secondWatch?.searchParams.get('resourceVersion')).toBe('4');
    expect(listRequests()).toHaveLength(1);
    stop.abort();
    await loop;
    expect(summary(events)).toEqual(['init', 'initDone:1', 'apply:a', 'apply:b', 'apply:a']);
  });

  it('reads lines byte-wise: a character split across chunks, blank lines, no final newline', async () => {
    server = await ScriptedServer.start();
    const accented = { ...thing('café', '2'), data: { note: 'naïve — ünïcödé ✓' } };
    const bytes = Buffer.from(line('ADDED', accented));
    // Cut inside the two bytes of the first 'é', then inside the three bytes of '—'.
    const e = bytes.indexOf(Buffer.from('é')) + 1;
    const dash = bytes.indexOf(Buffer.from('—')) + 2;
    server.script(
      list([], '1'),
      stream(
        [
          bytes.subarray(0, e),
          bytes.subarray(e, dash),
          Buffer.concat([bytes.subarray(dash), Buffer.from('\n  \n')]),
          line('MODIFIED', thing('b', '3')).trimEnd(),
        ],
        { gapMs: 20 },
      ),
    );
    const events = await collect(4);
    expect(summary(events)).toEqual(['init', 'initDone:1', 'apply:café', 'apply:b']);
    expect((events[2] as { object: unknown }).object).toEqual(accented);
  });

  it('asks the watch cache for the first list, pages with limit 500', async () => {
    server = await ScriptedServer.start();
    server.script(list([thing('a', '1')], '1'));
    await collect(3);
    expect(listRequests()[0]?.searchParams.get('resourceVersion')).toBe('0');
    expect(listRequests()[0]?.searchParams.get('limit')).toBe('500');
  });

  it('relists consistently after an in-stream 410', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '1')], '1'),
      stream([
        line('ERROR', {
          kind: 'Status',
          code: 410,
          reason: 'Expired',
          message: 'too old resource version',
        }),
      ]),
      list([thing('b', '8')], '8'),
    );
    const events = await collect(6);
    expect(summary(events)).toEqual([
      'init',
      'initApply:a',
      'initDone:1',
      'init',
      'initApply:b',
      'initDone:8',
    ]);
    expect(listRequests()[1]?.searchParams.get('resourceVersion')).toBeNull();
  });

  it('relists after an HTTP 410', async () => {
    server = await ScriptedServer.start();
    server.script(list([], '1'), status(410, 'Gone'), list([thing('c', '9')], '9'));
    expect(summary(await collect(5))).toEqual([
      'init',
      'initDone:1',
      'init',
      'initApply:c',
      'initDone:9',
    ]);
  });

  it.each([
    [500, 'InternalError'],
    [429, 'TooManyRequests'],
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
  ])(
    'retries the watch from the same version after HTTP %i, after the backoff, without a relist',
    async (code, reason) => {
      server = await ScriptedServer.start();
      const clock = new FakeClock();
      server.script(
        list([], '1'),
        status(code, reason, { 'retry-after': '0' }),
        stream([line('ADDED', thing('a', '2'))]),
      );
      const events = collect(3, { clock, backoff: { initialMs: 50, jitter: 0 } });
      // A Retry-After shorter than the backoff does not shorten it.
      await expect.poll(() => clock.timersDueIn()).toEqual([50]);
      clock.advance(49);
      expect(watchRequests()).toHaveLength(1);
      clock.advance(1);
      expect(summary(await events)).toEqual(['init', 'initDone:1', 'apply:a']);
      expect(watchRequests().map((u) => u.searchParams.get('resourceVersion'))).toEqual(['1', '1']);
      expect(listRequests()).toHaveLength(1);
    },
  );

  it("waits as long as the server's Retry-After asks when that is longer than the backoff", async () => {
    server = await ScriptedServer.start();
    const clock = new FakeClock();
    server.script(
      list([], '1'),
      status(429, 'TooManyRequests', { 'retry-after': '7' }),
      stream([line('ADDED', thing('a', '2'))]),
    );
    const events = collect(3, { clock, backoff: { initialMs: 50, jitter: 0 } });
    await expect.poll(() => clock.timersDueIn()).toEqual([7000]);
    clock.advance(6999);
    expect(clock.timersDueIn()).toEqual([1]);
    clock.advance(1);
    expect(summary(await events)).toEqual(['init', 'initDone:1', 'apply:a']);
  });

  it.each([
    ['the Retry-After header', { 'retry-after': '86400' }, undefined],
    ['the Status details', {}, 1e9],
  ])(
    'waits no longer than the backoff maximum when %s asks for hours',
    async (_where, headers, retryAfterSeconds) => {
      server = await ScriptedServer.start();
      const clock = new FakeClock();
      server.script(
        list([], '1'),
        status(429, 'TooManyRequests', headers, retryAfterSeconds),
        stream([line('ADDED', thing('a', '2'))]),
      );
      const events = collect(3, { clock, backoff: { initialMs: 50, maxMs: 2_000, jitter: 0 } });
      await expect.poll(() => clock.timersDueIn()).toEqual([2_000]);
      clock.advance(2_000);
      expect(summary(await events)).toEqual(['init', 'initDone:1', 'apply:a']);
    },
  );

  it('doubles its delay on each failure in a row, from the initial delay to the maximum', async () => {
    server = await ScriptedServer.start();
    const clock = new FakeClock();
    server.script(
      list([], '1'),
      status(500, 'InternalError'),
      status(500, 'InternalError'),
      status(500, 'InternalError'),
      status(500, 'InternalError'),
      stream([line('ADDED', thing('a', '2'))]),
    );
    const events = collect(3, { clock, backoff: { initialMs: 800, maxMs: 2000, jitter: 0 } });
    for (const delay of [800, 1600, 2000, 2000]) {
      await expect.poll(() => clock.timersDueIn()).toEqual([delay]);
      clock.advance(delay);
    }
    expect(summary(await events)).toEqual(['init', 'initDone:1', 'apply:a']);
    expect(watchRequests()).toHaveLength(5);
  });

  it('aborts a stalled watch and resumes it', async () => {
    server = await ScriptedServer.start();
    const restarts: string[] = [];
    server.script(
      list([], '1'),
      stream([], { keepOpen: true }),
      stream([line('ADDED', thing('a', '2'))]),
    );
    const clock = new FakeClock();
    const events = collect(3, {
      clock,
      stallTimeoutMs: 100_000,
      observer: { onWatchRestart: (r) => restarts.push(r) },
    });
    await server.requested(2);
    // The silent watch's watchdog: nothing happens before the stall period is over.
    expect(clock.timersDueIn()).toEqual([100_000]);
    clock.advance(99_999);
    expect(restarts).toEqual([]);
    clock.advance(1);
    expect(summary(await events)).toEqual(['init', 'initDone:1', 'apply:a']);
    expect(restarts[0]).toBe('stalled');
    expect(watchRequests().map((u) => u.searchParams.get('resourceVersion'))).toEqual(['1', '1']);
  });

  it('keeps a quiet watch alive with bookmarks and resumes from the bookmark', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([], '1'),
      stream([line('BOOKMARK', { kind: 'Thing', metadata: { resourceVersion: '42' } })]),
      stream([line('ADDED', thing('a', '43'))]),
    );
    expect(summary(await collect(4))).toEqual(['init', 'initDone:1', 'bookmark:42', 'apply:a']);
    expect(watchRequests()[1]?.searchParams.get('resourceVersion')).toBe('42');
    expect(listRequests()).toHaveLength(1);
  });

  it('retries after a reset connection', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([], '1'),
      (_req, res) => {
        res.writeHead(200);
        res.write(line('ADDED', thing('a', '2')));
        setTimeout(() => res.socket?.destroy(), 10);
      },
      stream([line('ADDED', thing('b', '3'))]),
    );
    expect(summary(await collect(4))).toEqual(['init', 'initDone:1', 'apply:a', 'apply:b']);
    expect(watchRequests()[1]?.searchParams.get('resourceVersion')).toBe('2');
  });

  it('counts a watch that closes at once without events as a failure, and backs off', async () => {
    server = await ScriptedServer.start();
    const clock = new FakeClock();
    const restarts: string[] = [];
    server.script(list([], '1'), stream([]), stream([line('ADDED', thing('a', '2'))]));
    const events = collect(3, { clock, observer: { onWatchRestart: (r) => restarts.push(r) } });
    await expect.poll(() => clock.timersDueIn()).toEqual([1]);
    expect(restarts).toEqual(['failed']);
    clock.advance(1);
    await events;
  });

  it('resumes at once a watch that closes without events after a second or more', async () => {
    server = await ScriptedServer.start();
    const clock = new FakeClock();
    const restarts: string[] = [];
    let end: () => void = () => undefined;
    server.script(
      list([], '1'),
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        end = () => res.end();
      },
      stream([line('ADDED', thing('a', '2'))], { keepOpen: true }),
    );
    const events = collect(3, { clock, observer: { onWatchRestart: (r) => restarts.push(r) } });
    await server.requested(2);
    clock.advance(1000);
    end();
    expect(summary(await events)).toEqual(['init', 'initDone:1', 'apply:a']);
    expect(restarts).toEqual(['closed']);
    expect(watchRequests().map((u) => u.searchParams.get('resourceVersion'))).toEqual(['1', '1']);
  });

  it('starts the list again when its continue token expired', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '5')], '5', 'token-1'),
      status(410, 'Expired'),
      list([thing('a', '6'), thing('b', '6')], '6'),
    );
    const events = await collect(6);
    expect(summary(events)).toEqual([
      'init',
      'initApply:a',
      'init',
      'initApply:a',
      'initApply:b',
      'initDone:6',
    ]);
    expect(listRequests()[1]?.searchParams.get('continue')).toBe('token-1');
    expect(listRequests()[2]?.searchParams.get('continue')).toBeNull();
  });

  it('stops when the signal aborts, without an error', async () => {
    server = await ScriptedServer.start();
    server.script(list([], '1'), stream([], { keepOpen: true }));
    const client = new ResourceClient<KubeObject>(
      new KubeClient(server.kubeConfig()),
      resource,
      'default',
    );
    stop = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const event of watch(client, { watchList: 'never' }, stop.signal))
        seen.push(event.type);
    })();
    await server.requested(2);
    stop.abort();
    await loop;
    expect(seen).toEqual(['init', 'initDone']);
  });
});

describe('runWatcher (push)', () => {
  const client = () =>
    new ResourceClient<KubeObject>(new KubeClient(server.kubeConfig()), resource, 'default');

  it('hands events to the sink in order, and pauses while the sink waits', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([thing('a', '1')], '1'),
      stream(
        [
          line('MODIFIED', thing('a', '2')),
          line('ADDED', thing('b', '3')),
          line('DELETED', thing('a', '4')),
        ],
        { keepOpen: true, gapMs: 5 },
      ),
    );
    stop = new AbortController();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const done = runWatcher(client(), { watchList: 'never' }, stop.signal, (event) => {
      seen.push('object' in event ? `${event.type}:${event.object.metadata.name}` : event.type);
      // Hold the watcher at the first watch event.
      if (event.type === 'apply' && event.object.metadata.resourceVersion === '2') {
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      }
      return undefined;
    });
    await expect.poll(() => seen.length).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Everything else has arrived by now, but nothing more was handed on.
    expect(seen).toEqual(['init', 'initApply:a', 'initDone', 'apply:a']);
    release();
    await expect.poll(() => seen.length).toBe(6);
    expect(seen.slice(4)).toEqual(['apply:b', 'delete:a']);
    stop.abort();
    await done;
  });

  it('does not count the time a sink holds the stream as a stall', async () => {
    server = await ScriptedServer.start();
    server.script(list([], '1'), stream([line('ADDED', thing('a', '2'))], { keepOpen: true }));
    stop = new AbortController();
    const restarts: string[] = [];
    let held = false;
    let release: () => void = () => undefined;
    const clock = new FakeClock();
    const done = runWatcher(
      client(),
      {
        watchList: 'never',
        stallTimeoutMs: 100,
        clock,
        observer: { onWatchRestart: (reason) => restarts.push(reason) },
      },
      stop.signal,
      (event) => {
        if (event.type !== 'apply') return undefined;
        held = true;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    );
    await expect.poll(() => held).toBe(true);
    // Four stall periods with the sink holding the stream: no restart.
    clock.advance(400);
    expect(restarts).toEqual([]);
    expect(watchRequests()).toHaveLength(1);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    // Reading again, the watchdog runs again, from now: the silent server is a stall.
    clock.advance(99);
    expect(restarts).toEqual([]);
    clock.advance(1);
    await expect.poll(() => restarts).toEqual(['stalled']);
    stop.abort();
    await done;
  });

  it('stops and rejects with what a sink promise rejects with, without retrying', async () => {
    server = await ScriptedServer.start();
    server.script(list([], '1'), stream([line('ADDED', thing('a', '2'))], { keepOpen: true }));
    stop = new AbortController();
    const failure = new Error('consumer failed later');
    const done = runWatcher(client(), { watchList: 'never' }, stop.signal, (event) =>
      event.type === 'apply' ? Promise.reject(failure) : undefined,
    );
    await expect(done).rejects.toBe(failure);
    expect(watchRequests()).toHaveLength(1);
  });

  it('hands on nothing more while the sink holds an event, even when the stream fails', async () => {
    server = await ScriptedServer.start();
    server.script(
      list([], '1'),
      // One event, then the connection is reset while the sink still holds that event.
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', thing('a', '2')));
        setTimeout(() => res.destroy(), 50);
      },
      stream([line('ADDED', thing('b', '3'))], { keepOpen: true }),
    );
    stop = new AbortController();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const done = runWatcher(
      client(),
      { watchList: 'never', backoff: { initialMs: 1, maxMs: 5, jitter: 0 } },
      stop.signal,
      (event) => {
        if (event.type !== 'apply') return undefined;
        seen.push(event.object.metadata.name as string);
        if (event.object.metadata.name !== 'a') return undefined;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    );
    await expect.poll(() => seen).toEqual(['a']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual(['a']);
    release();
    await expect.poll(() => seen).toEqual(['a', 'b']);
    // The watch resumed from the held event's resourceVersion: nothing lost, nothing twice.
    expect(watchRequests().map((u) => u.searchParams.get('resourceVersion'))).toEqual(['1', '2']);
    stop.abort();
    await done;
  });

  it('stops and rejects with what a sink throws, without retrying', async () => {
    server = await ScriptedServer.start();
    server.script(list([], '1'), stream([line('ADDED', thing('a', '2'))], { keepOpen: true }));
    stop = new AbortController();
    const failure = new Error('consumer failed');
    const done = runWatcher(client(), { watchList: 'never' }, stop.signal, (event) => {
      if (event.type === 'apply') throw failure;
    });
    await expect(done).rejects.toBe(failure);
    expect(watchRequests()).toHaveLength(1);
  });
});

describe('watch-list (sendInitialEvents)', () => {
  const endBookmark = (resourceVersion: string) =>
    line('BOOKMARK', {
      kind: 'Thing',
      apiVersion: 'test.example/v1',
      metadata: { resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } },
    });

  it('takes the initial state from the watch itself, atomically, then goes on watching', async () => {
    server = await ScriptedServer.start();
    server.script(
      stream(
        [
          line('ADDED', thing('a', '3')),
          line('ADDED', thing('b', '4')),
          endBookmark('5'),
          line('MODIFIED', thing('a', '6')),
        ],
        { keepOpen: true },
      ),
    );
    const events = await collect(5, { watchList: 'auto' });
    expect(summary(events)).toEqual([
      'init',
      'initApply:a',
      'initApply:b',
      'initDone:5',
      'apply:a',
    ]);
    expect(listRequests()).toHaveLength(0);
    const request = server.requests[0];
    expect(request?.searchParams.get('sendInitialEvents')).toBe('true');
    expect(request?.searchParams.get('resourceVersionMatch')).toBe('NotOlderThan');
    expect(request?.searchParams.get('allowWatchBookmarks')).toBe('true');
    expect(request?.searchParams.has('resourceVersion')).toBe(false);
  });

  it('falls back to list then watch when the server refuses it (422), and remembers', async () => {
    server = await ScriptedServer.start();
    server.script(
      status(422, 'Invalid'),
      list([thing('a', '1')], '1'),
      stream([line('ADDED', thing('b', '2'))], { keepOpen: true }),
      list([thing('a', '1')], '1'),
    );
    const client = new ResourceClient<KubeObject>(
      new KubeClient(server.kubeConfig()),
      resource,
      'default',
    );
    const run = async (count: number) => {
      const controller = new AbortController();
      const events: WatchEvent[] = [];
      for await (const event of watch(
        client,
        { backoff: { initialMs: 1, jitter: 0 } },
        controller.signal,
      )) {
        events.push(event);
        if (events.length >= count) break;
      }
      controller.abort();
      return summary(events);
    };
    // The refused attempt opened an init that the list's init replaces: consumers discard it.
    expect(await run(5)).toEqual(['init', 'init', 'initApply:a', 'initDone:1', 'apply:b']);
    expect(server.requests[0]?.searchParams.get('sendInitialEvents')).toBe('true');
    // A second watcher on the same client lists at once: the answer is remembered.
    expect(await run(3)).toEqual(['init', 'initApply:a', 'initDone:1']);
    expect(server.requests[3]?.searchParams.get('watch')).toBeNull();
    expect(server.requests.filter((u) => u.searchParams.has('sendInitialEvents'))).toHaveLength(1);
  });

  it('starts again when the stream ends before the initial events did', async () => {
    server = await ScriptedServer.start();
    server.script(
      stream([line('ADDED', thing('a', '3'))]),
      stream([line('ADDED', thing('a', '3')), endBookmark('4')], { keepOpen: true }),
    );
    const events = await collect(5, { watchList: 'always' });
    expect(summary(events)).toEqual(['init', 'initApply:a', 'init', 'initApply:a', 'initDone:4']);
    expect(server.requests.every((u) => u.searchParams.get('sendInitialEvents') === 'true')).toBe(
      true,
    );
  });

  it('starts again after an in-stream 410 during the initial events', async () => {
    server = await ScriptedServer.start();
    server.script(
      stream([
        line('ADDED', thing('a', '3')),
        line('ERROR', { kind: 'Status', code: 410, reason: 'Expired' }),
      ]),
      stream([line('ADDED', thing('b', '7')), endBookmark('8')], { keepOpen: true }),
    );
    const events = await collect(5, { watchList: 'always' });
    expect(summary(events)).toEqual(['init', 'initApply:a', 'init', 'initApply:b', 'initDone:8']);
  });
});
