import { createObjectReader, type KubeObjectLike } from '@vmcp/discoverer';
import { createDynamicRegistry } from '@vmcp/registry';
import {
  expectedScenarioAuth,
  SCENARIO_ENV,
  SCENARIO_GROUP,
  type ScenarioConfig,
  scenarioObjects,
  vmcpConfigYaml,
} from '@vmcp/test-support';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BackendReconciler,
  type Decision,
  type OutgoingAuth,
  parseOutgoingAuth,
} from '../src/index.js';

const NS = 'tools';
const NAMES = ['broken', 'fetch', 'github', 'jira', 'wiki'];

/** The file's `outgoingAuth`, as the sidecar reads it. */
function outgoingAuthOf(config: ScenarioConfig): OutgoingAuth {
  const document = parse(vmcpConfigYaml(config)) as { outgoingAuth: unknown };
  return parseOutgoingAuth(document.outgoingAuth, { env: SCENARIO_ENV });
}

/** A reconciler over the scenario; `auth` is the config now (a value, or read at each call). */
function setup(auth: OutgoingAuth | undefined | (() => OutgoingAuth | undefined)) {
  const registry = createDynamicRegistry();
  const decisions = new Map<string, Decision>();
  const reconciler = new BackendReconciler({
    namespace: NS,
    group: SCENARIO_GROUP,
    registry,
    reader: createObjectReader(scenarioObjects(NS) as KubeObjectLike[]),
    outgoingAuth: typeof auth === 'function' ? auth : () => auth,
    observer: { decided: (name, decision) => decisions.set(name, decision) },
  });
  return { registry, reconciler, decisions };
}

async function reconcileAll(reconciler: BackendReconciler) {
  for (const name of NAMES) await reconciler.reconcile({ namespace: NS, name });
}

describe('BackendReconciler with the vMCP config’s outgoingAuth', () => {
  it.each<[string, ScenarioConfig]>([
    ['source: discovered', { source: 'discovered' }],
    ['source: inline', { source: 'inline' }],
    ['no source (inline, as upstream)', { source: undefined }],
  ])('gives every backend the auth upstream resolves, with %s', async (_name, config) => {
    const { registry, reconciler } = setup(outgoingAuthOf(config));
    await reconcileAll(reconciler);
    const expected = expectedScenarioAuth(config);
    for (const name of NAMES) {
      const backend = registry.get(name);
      const auth = expected[name];
      if (auth === null) {
        expect(backend, name).toBeUndefined();
        continue;
      }
      expect(backend?.authConfig, name).toEqual(auth?.authConfig);
      expect(backend?.authConfigRef, name).toBe(auth?.authConfigRef);
    }
  });

  it('sets metadata.group on every backend, over the annotation of that name', async () => {
    const { registry, reconciler } = setup(outgoingAuthOf({}));
    await reconcileAll(reconciler);
    expect(registry.list().map((b) => [b.id, b.metadata.group])).toEqual([
      ['fetch', SCENARIO_GROUP],
      ['github', SCENARIO_GROUP],
      ['jira', SCENARIO_GROUP],
      ['wiki', SCENARIO_GROUP],
    ]);
  });

  it('never serves a workload whose auth reference is broken, also under inline with a default', async () => {
    const { registry, reconciler, decisions } = setup(outgoingAuthOf({ source: 'inline' }));
    await reconciler.reconcile({ namespace: NS, name: 'broken' });
    expect(registry.get('broken')).toBeUndefined();
    expect(decisions.get('broken')).toMatchObject({
      action: 'remove',
      reason: 'skipped',
      outcome: { reason: 'auth-unresolved' },
    });
  });

  it('reads the config after each conversion: a replaced one applies to the next reconcile', async () => {
    let auth = outgoingAuthOf({ fetchValue: 'first' });
    const { registry, reconciler } = setup(() => auth);
    await reconcileAll(reconciler);
    const version = registry.version;
    auth = outgoingAuthOf({ fetchValue: 'second' });
    await reconcileAll(reconciler);
    expect(registry.get('fetch')?.authConfig).toMatchObject({ headerValue: 'second' });
    expect(registry.version).toBe(version + 1);
  });

  it('keeps out a backend the config gives obo, and explains why', async () => {
    const auth = parseOutgoingAuth(
      {
        source: 'inline',
        backends: { jira: { type: 'obo', obo: { tokenUrl: 'https://login/t' } } },
      },
      { env: {} },
    );
    const { registry, reconciler } = setup(auth);
    await reconcileAll(reconciler);
    expect(registry.get('jira')).toBeUndefined();
    const { decision } = await reconciler.explain('jira');
    expect(decision).toMatchObject({
      action: 'remove',
      reason: 'skipped',
      outcome: {
        reason: 'auth-unresolved',
        message: expect.stringContaining(
          `MCPServer ${NS}/jira: outgoingAuth.backends.jira: type obo needs the enterprise build`,
        ),
      },
    });
  });

  it('explains a backend with the auth the config gives it', async () => {
    const { reconciler } = setup(outgoingAuthOf({ source: 'inline' }));
    const { outcome } = await reconciler.explain('github');
    expect(outcome).toMatchObject({
      kind: 'backend',
      backend: {
        authConfig: { headerName: 'X-From-The-File' },
        metadata: { group: SCENARIO_GROUP },
      },
    });
  });
});
