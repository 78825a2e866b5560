/**
 * `@vmcp/registry/testing`: the contract of a {@link RegistryReader} as a vitest suite, for every
 * implementation: this package runs it on the in-process dynamic registry and on a replica,
 * `@vmcp/registry-client` on its client against the built sidecar binary, and an implementation
 * of your own can run it too. The suite is handed vitest's functions rather than importing
 * vitest, so that this package never depends on it (not even as a peer, which `pnpm deploy
 * --prod` would carry into a production copy). Each test works on ids of its own, so one subject
 * serves the whole suite whatever the source held before.
 */
import {
  type Backend,
  memoByVersion,
  type RegistryChange,
  type RegistryReader,
  type RegistrySnapshot,
} from './index.js';
import { byId } from './registry.js';

/** One implementation under test, with a way to change the content of its source. */
export interface ContractSubject {
  readonly reader: RegistryReader;
  /**
   * Changes the source: each id of `upsert` gets a new revision (content different from any
   * before), each id of `remove` is removed. Resolves once the source has published the result
   * (the reader may still be behind).
   */
  change(step: { upsert?: readonly string[]; remove?: readonly string[] }): Promise<void>;
  /** The source's content and version now. */
  source(): Promise<RegistrySnapshot>;
  close(): Promise<void>;
}

/** The vitest functions the suite declares its tests with: `import * as vitest from 'vitest'`. */
export type TestApi = Pick<
  typeof import('vitest'),
  'afterAll' | 'beforeAll' | 'describe' | 'expect' | 'it'
>;

/** Options of {@link describeRegistryReaderContract}. */
export interface ContractOptions {
  /** How long a reader may take to hold what its source published. Default 20 s. */
  catchUpMs?: number;
}

/** Resolves once `reader` holds the source's current version; throws after `timeoutMs`. */
async function caughtUp(subject: ContractSubject, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { version } = await subject.source();
    if (subject.reader.version === version) return;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`the reader holds ${subject.reader.version}, its source ${version}`);
    }
    await subject.reader.waitForChange(subject.reader.version, { timeoutMs: Math.min(left, 200) });
  }
}

/**
 * Replays `changes` onto `start`, as a consumer of the feed does: a `reset` replaces everything
 * held. The result is sorted by id, as a reader's `list()` is.
 */
export function replay(start: readonly Backend[], changes: readonly RegistryChange[]): Backend[] {
  const held = new Map(start.map((backend) => [backend.id, backend]));
  for (const change of changes) {
    if (change.reset) held.clear();
    for (const id of change.removed) held.delete(id);
    for (const backend of change.upserted) held.set(backend.id, backend);
  }
  return [...held.values()].sort(byId);
}

/** Reads the feed until it yields `version`. */
async function readUntil(
  feed: AsyncIterator<RegistryChange>,
  version: number,
): Promise<RegistryChange[]> {
  const seen: RegistryChange[] = [];
  while (seen.at(-1)?.version !== version) {
    const next = await feed.next();
    if (next.done) throw new Error(`the feed ended after ${seen.length} changes`);
    seen.push(next.value);
  }
  return seen;
}

/**
 * Asserts (with vitest's `expect`) that every change of a feed read from version `start` follows
 * the one before by exactly one version, unless it is a `reset`, which only goes up.
 */
export function expectNoGap(
  expect: TestApi['expect'],
  start: number,
  changes: readonly RegistryChange[],
): void {
  let previous = start;
  for (const change of changes) {
    if (!change.reset) expect(change.version).toBe(previous + 1);
    else expect(change.version).toBeGreaterThan(previous);
    previous = change.version;
  }
}

/**
 * Declares the contract's tests with `test` (vitest's functions) for the reader `start` gives:
 * it is started once for the suite and closed after it. `catchUpMs` bounds how long the reader
 * may lag its source.
 *
 * @example
 * import * as vitest from 'vitest';
 *
 * describeRegistryReaderContract('my reader', async () => {
 *   const source = createDynamicRegistry();
 *   const reader = myReaderOf(source);
 *   return {
 *     reader,
 *     change: async ({ upsert = [], remove = [] }) => { ... },
 *     source: async () => source.snapshot(),
 *     close: async () => reader.close(),
 *   };
 * }, vitest);
 */
export function describeRegistryReaderContract(
  name: string,
  start: () => Promise<ContractSubject>,
  test: TestApi,
  options: ContractOptions = {},
): void {
  const { afterAll, beforeAll, describe } = test;
  describe(`RegistryReader contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    let count = 0;
    // Ids of the running test: `c<test>-<name>`, valid Kubernetes names.
    let prefix = 'c0';
    beforeAll(async () => {
      subject = await start();
    }, 60_000);
    afterAll(async () => {
      await subject?.close();
    });
    const ctx: ContractContext = {
      test,
      catchUpMs: options.catchUpMs ?? 20_000,
      subject: () => subject as ContractSubject,
      prepare: () => {
        prefix = `c${++count}`;
      },
      ids: (id) => `${prefix}-${id}`,
      change: async (step) => {
        await ctx.subject().change({
          upsert: (step.upsert ?? []).map(ctx.ids),
          remove: (step.remove ?? []).map(ctx.ids),
        });
        await caughtUp(ctx.subject(), ctx.catchUpMs);
      },
    };
    describeReads(ctx);
    describeFeed(ctx);
    describeWaits(ctx);
  });
}

/** What the tests of the contract share. */
interface ContractContext {
  readonly test: TestApi;
  readonly catchUpMs: number;
  subject(): ContractSubject;
  /** Starts a test: its ids get a prefix of their own. */
  prepare(): void;
  /** The running test's id for `name`. */
  ids(name: string): string;
  /** Changes the source (ids of this test) and waits until the reader holds the result. */
  change(step: { upsert?: string[]; remove?: string[] }): Promise<void>;
}

/** Reads: snapshot, list, get, count, and what they hand out. */
function describeReads(ctx: ContractContext): void {
  const { expect, it } = ctx.test;
  it('holds what its source holds: snapshot, list, get and count agree', async () => {
    ctx.prepare();
    await ctx.change({ upsert: ['a', 'b', 'c'] });
    const source = await ctx.subject().source();
    const { reader } = ctx.subject();
    const snapshot = reader.snapshot();
    expect(snapshot).toEqual(source);
    expect(reader.version).toBe(source.version);
    expect(reader.list()).toEqual(source.backends);
    expect(reader.count()).toBe(source.backends.length);
    for (const backend of source.backends) expect(reader.get(backend.id)).toEqual(backend);
    expect(reader.get(ctx.ids('a'))?.id).toBe(ctx.ids('a'));
  });

  it('answers undefined for an absent id and for the empty id', async () => {
    ctx.prepare();
    expect(ctx.subject().reader.get(ctx.ids('absent'))).toBeUndefined();
    expect(ctx.subject().reader.get('')).toBeUndefined();
  });

  it('lists sorted by id, deep-frozen, and the same array until the next change', async () => {
    ctx.prepare();
    await ctx.change({ upsert: ['b', 'a'] });
    const { reader } = ctx.subject();
    const list = reader.list();
    expect(reader.list()).toBe(list);
    expect(reader.snapshot().backends).toBe(list);
    const sorted = [...list].map((b) => b.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(list.map((b) => b.id)).toEqual(sorted);
    expect(Object.isFrozen(list)).toBe(true);
    expect(Object.isFrozen(reader.snapshot())).toBe(true);
    const held = reader.get(ctx.ids('a'));
    expect(Object.isFrozen(held)).toBe(true);
    expect(Object.isFrozen(held?.metadata)).toBe(true);
    expect(() => {
      (held as Backend).baseUrl = 'http://elsewhere';
    }).toThrow(TypeError);
    await ctx.change({ upsert: ['a'] });
    expect(reader.list()).not.toBe(list);
  });
}

/** The change feed: every version in order, resumption, resets. */
function describeFeed(ctx: ContractContext): void {
  const { expect, it } = ctx.test;
  it('publishes every version in order, and its feed replays to the source content', async () => {
    ctx.prepare();
    const { reader } = ctx.subject();
    const before = reader.snapshot();
    const feed = reader.changes();
    await ctx.change({ upsert: ['x', 'y'] });
    await ctx.change({ upsert: ['x'], remove: ['y'] });
    await ctx.change({ remove: ['x'] });
    const seen = await readUntil(feed, reader.version);
    await feed.return?.();
    expectNoGap(expect, before.version, seen);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const step of seen) {
      expect(Object.isFrozen(step)).toBe(true);
      if (!step.reset) expect(step.upserted.length + step.removed.length).toBeGreaterThan(0);
    }
    expect(replay(before.backends, seen)).toEqual((await ctx.subject().source()).backends);
  });

  it('replays the retained changes after a version', async () => {
    ctx.prepare();
    const { reader } = ctx.subject();
    const from = reader.snapshot();
    await ctx.change({ upsert: ['p'] });
    await ctx.change({ upsert: ['q'] });
    const feed = reader.changes({ sinceVersion: from.version });
    const seen = await readUntil(feed, reader.version);
    await feed.return?.();
    expect(seen.some((step) => step.reset)).toBe(false);
    expectNoGap(expect, from.version, seen);
    expect(replay(from.backends, seen)).toEqual(reader.list());
  });

  it('starts with a reset carrying the whole content when resuming from a version it never had', async () => {
    ctx.prepare();
    await ctx.change({ upsert: ['r'] });
    const { reader } = ctx.subject();
    const feed = reader.changes({ sinceVersion: reader.version + 1_000_000 });
    const first = await feed.next();
    await feed.return?.();
    expect(first.value).toEqual({
      version: reader.version,
      upserted: reader.list(),
      removed: [],
      reset: true,
    });
  });
}

/** Waiting for changes, ending feeds, and memoByVersion on top. */
function describeWaits(ctx: ContractContext): void {
  const { expect, it } = ctx.test;
  it('waits for a change: at once when behind, on the next change, false on timeout', async () => {
    ctx.prepare();
    const { reader } = ctx.subject();
    const version = reader.version;
    expect(await reader.waitForChange(version - 1)).toEqual({ changed: true, version });
    expect(await reader.waitForChange(version, { timeoutMs: 30 })).toEqual({
      changed: false,
      version,
    });
    const next = reader.waitForChange(version, { timeoutMs: ctx.catchUpMs });
    await ctx.subject().change({ upsert: [ctx.ids('w')] });
    const result = await next;
    expect(result.changed).toBe(true);
    expect(result.version).toBeGreaterThan(version);
    await caughtUp(ctx.subject(), ctx.catchUpMs);
  });

  it('rejects a wait with the reason of its aborted signal', async () => {
    ctx.prepare();
    const controller = new AbortController();
    const wait = ctx.subject().reader.waitForChange(ctx.subject().reader.version, {
      signal: controller.signal,
    });
    controller.abort(new Error('consumer stopping'));
    await expect(wait).rejects.toThrow('consumer stopping');
  });

  it('ends a feed when its signal aborts, and after the loop breaks', async () => {
    ctx.prepare();
    const { reader } = ctx.subject();
    const controller = new AbortController();
    const aborted = reader.changes({ signal: controller.signal });
    const pending = aborted.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    const broken = reader.changes();
    const waiting = broken.next();
    await ctx.change({ upsert: ['z'] });
    expect((await waiting).done).toBe(false);
    await ctx.change({ upsert: ['z'] });
    for await (const _ of broken) break;
    expect(await broken.next()).toEqual({ done: true, value: undefined });
  });

  it('keeps memoByVersion current: one computation per version', async () => {
    ctx.prepare();
    const { reader } = ctx.subject();
    let computations = 0;
    const urls = memoByVersion(reader, (version) => {
      computations++;
      return { version, urls: reader.list().map((b) => `${b.id} ${b.baseUrl}`) };
    });
    const first = await urls();
    expect(await urls()).toBe(first);
    expect(computations).toBe(1);
    expect(first.version).toBe(reader.version);
    await ctx.change({ upsert: ['m'] });
    const second = await urls();
    expect(computations).toBe(2);
    expect(second.version).toBe(reader.version);
    expect(second.urls).toEqual(
      (await ctx.subject().source()).backends.map((b) => `${b.id} ${b.baseUrl}`),
    );
  });
}
