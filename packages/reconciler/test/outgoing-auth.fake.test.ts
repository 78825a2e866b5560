/**
 * The in-process BackendWatcher with the vMCP config's `outgoingAuth`, against the in-process API
 * server: the same scenario as the sidecar's tests (`@vmcp/test-support`), resolution at start and
 * after `setOutgoingAuth`, with exact version steps.
 */
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import {
  eventually,
  expectedScenarioAuth,
  SCENARIO_ENV,
  SCENARIO_GROUP,
  type ScenarioConfig,
  scenarioObjects,
  vmcpConfigYaml,
} from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BackendWatcher,
  type BackendWatcherOptions,
  type OutgoingAuth,
  OutgoingAuthConfigError,
  parseOutgoingAuth,
} from '../src/index.js';

const NS = 'default';

let fake: FakeApiServer;
const running: { stop: AbortController; done: Promise<void> }[] = [];

beforeEach(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  fake.load(scenarioObjects(NS) as KubeObject[]);
});
afterEach(async () => {
  for (const { stop } of running) stop.abort();
  await Promise.all(running.splice(0).map(({ done }) => done));
  await fake.close();
});

function outgoingAuthOf(config: ScenarioConfig): OutgoingAuth {
  const document = parse(vmcpConfigYaml(config)) as { outgoingAuth: unknown };
  return parseOutgoingAuth(document.outgoingAuth, { env: SCENARIO_ENV });
}

async function start(outgoingAuth?: OutgoingAuth, extra: Partial<BackendWatcherOptions> = {}) {
  const registry: DynamicRegistry = createDynamicRegistry();
  const watcher = new BackendWatcher({
    kubeConfig: fake.kubeConfig,
    namespace: NS,
    groupRef: SCENARIO_GROUP,
    registry,
    resyncPeriodMs: 0,
    ...(outgoingAuth ? { outgoingAuth } : {}),
    ...extra,
  });
  const stop = new AbortController();
  running.push({ stop, done: watcher.start(stop.signal) });
  expect(await watcher.waitForRegistrySync({ timeoutMs: 30_000 })).toBe(true);
  return { registry, watcher };
}

/** What the registry holds of each scenario name: its auth, or null. */
function authOf(registry: DynamicRegistry) {
  return Object.fromEntries(
    ['broken', 'fetch', 'github', 'jira', 'wiki'].map((name) => {
      const backend = registry.get(name);
      if (backend === undefined) return [name, null];
      return [
        name,
        {
          ...(backend.authConfig ? { authConfig: backend.authConfig } : {}),
          ...(backend.authConfigRef ? { authConfigRef: backend.authConfigRef } : {}),
        },
      ];
    }),
  );
}

describe('BackendWatcher with outgoingAuth', () => {
  it('applies the config from the first upsert on (upstream #6454: never dropped after start)', async () => {
    const { registry } = await start(outgoingAuthOf({}));
    expect(authOf(registry)).toEqual(expectedScenarioAuth({}));
    expect(registry.get('wiki')?.metadata.group).toBe(SCENARIO_GROUP);
  });

  it('re-resolves every backend when the config is replaced; the version moves for the changed one only', async () => {
    const { registry, watcher } = await start(outgoingAuthOf({ fetchValue: 'one' }));
    const before = registry.snapshot();
    watcher.setOutgoingAuth(outgoingAuthOf({ fetchValue: 'two' }));
    await eventually(() =>
      expect(registry.get('fetch')?.authConfig).toMatchObject({ headerValue: 'two' }),
    );
    expect(registry.version).toBe(before.version + 1);
    for (const backend of before.backends) {
      if (backend.id !== 'fetch') expect(registry.get(backend.id)).toBe(backend);
    }
  });

  it('moves from discovered to inline and back, as the table says', async () => {
    const { registry, watcher } = await start(outgoingAuthOf({}));
    watcher.setOutgoingAuth(outgoingAuthOf({ source: 'inline' }));
    await eventually(() =>
      expect(authOf(registry)).toEqual(expectedScenarioAuth({ source: 'inline' })),
    );
    watcher.setOutgoingAuth(undefined);
    await eventually(() => expect(registry.get('fetch')?.authConfig).toBeUndefined());
    // Without a config, only discovered auth: github's own, no default for wiki.
    expect(registry.get('github')?.authConfigRef).toBe('github-auth');
    expect(registry.get('wiki')?.authConfig).toBeUndefined();
  });

  it('reconciles nothing again for a config that gives every backend the same auth', async () => {
    const messages: string[] = [];
    const record = (_fields: unknown, message?: string) => {
      if (message) messages.push(message);
    };
    const logger = {
      info: record,
      warn: record,
      error: record,
      debug: record,
      trace: record,
      child: () => logger,
    };
    const { registry, watcher } = await start(outgoingAuthOf({}), { logger });
    const reconciled = () => messages.filter((m) => m === 'backend upserted').length;
    const version = registry.version;
    watcher.setOutgoingAuth(outgoingAuthOf({}));
    expect(messages).not.toContain('outgoing auth replaced; reconciling every backend again');
    // A different one is taken, and logged once, without values.
    watcher.setOutgoingAuth(outgoingAuthOf({ fetchValue: 'other' }));
    expect(messages.filter((m) => m.startsWith('outgoing auth replaced'))).toHaveLength(1);
    await eventually(() => expect(registry.version).toBe(version + 1));
    expect(reconciled()).toBeGreaterThan(0);
  });

  it('refuses a bad config at construction and at replacement, keeping the one it has', async () => {
    const options = {
      kubeConfig: fake.kubeConfig,
      namespace: NS,
      groupRef: SCENARIO_GROUP,
      registry: createDynamicRegistry(),
    };
    expect(
      () => new BackendWatcher({ ...options, outgoingAuth: { source: 'discoverd' } as never }),
    ).toThrow(OutgoingAuthConfigError);
    const { registry, watcher } = await start(outgoingAuthOf({}));
    const kept = watcher.outgoingAuth;
    expect(() =>
      watcher.setOutgoingAuth({
        source: 'inline',
        default: { type: 'header_injection', headerInjection: { headerName: 'X' } },
      }),
    ).toThrow(
      'outgoingAuth.default.headerInjection: one of headerValue or headerValueEnv is required',
    );
    expect(watcher.outgoingAuth).toBe(kept);
    expect(authOf(registry)).toEqual(expectedScenarioAuth({}));
  });

  it('takes the spelled form and reads its variables from process.env', async () => {
    process.env.VMCP_WATCHER_TEST_KEY = 'from-process-env';
    try {
      const registry = createDynamicRegistry();
      const watcher = new BackendWatcher({
        kubeConfig: fake.kubeConfig,
        namespace: NS,
        groupRef: SCENARIO_GROUP,
        registry,
        outgoingAuth: {
          source: 'inline',
          backends: {
            jira: {
              type: 'header_injection',
              headerInjection: { headerName: 'X-Key', headerValueEnv: 'VMCP_WATCHER_TEST_KEY' },
            },
          },
        },
      });
      expect(watcher.outgoingAuth?.backends.get('jira')).toMatchObject({
        strategy: { headerValue: 'from-process-env' },
      });
    } finally {
      delete process.env.VMCP_WATCHER_TEST_KEY;
    }
  });
});
