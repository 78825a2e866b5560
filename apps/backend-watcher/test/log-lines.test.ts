/**
 * Every line the built sidecar logs is one JSON object with one value per key: log pipelines
 * (Loki, Elasticsearch, Cloud Logging) keep one of two values of a repeated key, and most keep
 * the last, which made a backend's name overwrite the logger's own `name`. The run goes through
 * start, sync, a workload that is not a backend, a name clash, kept-stale reads and their
 * recovery, definitive read failures, failed watches, and shutdown, at trace level.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import { eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_EXAMPLES } from '../src/demo.js';
import { NAME } from '../src/logger.js';
import { repeatedKeys } from './support/json-keys.js';
import { CliProcess, SIDECAR_READY_TIMEOUT_MS } from './support/process.js';

const API = 'toolhive.stacklok.dev/v1beta1';
const GROUP = 'engineering';

/**
 * Beside the examples: a server whose auth config names a Secret that does not exist (not a
 * backend), and an entry that shares its name with the MCPServer `fetch`.
 */
const EXTRA: KubeObject[] = [
  {
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name: 'dangling' },
    spec: {
      type: 'headerInjection',
      headerInjection: {
        headerName: 'Authorization',
        valueSecretRef: { name: 'absent', key: 'token' },
      },
    },
  },
  {
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name: 'broken' },
    spec: {
      image: 'example/broken:1',
      transport: 'streamable-http',
      groupRef: { name: GROUP },
      externalAuthConfigRef: { name: 'dangling' },
    },
    status: { phase: 'Ready', url: 'http://broken.default.svc.cluster.local:8080' },
  },
  {
    apiVersion: API,
    kind: 'MCPServerEntry',
    metadata: { name: 'fetch' },
    spec: {
      remoteUrl: 'https://fetch.example.com/mcp',
      transport: 'streamable-http',
      groupRef: { name: GROUP },
    },
    status: { phase: 'Valid' },
  },
];

let fake: FakeApiServer;
let cli: CliProcess;
let lines: string[];

/** Waits for a log line with this message (and these fields), and returns it. */
function logged(msg: string, fields: Record<string, unknown> = {}) {
  return eventually(
    () =>
      cli
        .logs()
        .find(
          (line) => line.msg === msg && expect.objectContaining(fields).asymmetricMatch(line),
        ) ?? false,
    {
      what: `a "${msg}" log line with ${JSON.stringify(fields)}`,
      timeoutMs: SIDECAR_READY_TIMEOUT_MS,
    },
  );
}

beforeAll(async () => {
  fake = await startFakeApiServer({
    crds: toolhiveCrdPaths,
    manifests: readdirSync(BUNDLED_EXAMPLES)
      .filter((file) => file.endsWith('.yaml'))
      .sort()
      .map((file) => join(BUNDLED_EXAMPLES, file)),
  });
  fake.load(EXTRA);
  cli = new CliProcess([
    '--group',
    GROUP,
    '--namespace',
    'default',
    '--kubeconfig',
    fake.kubeconfigPath,
    '--listen',
    '127.0.0.1:0',
    '--log-level',
    'trace',
    '--resync-period',
    '1s',
    '--grace-period',
    '1s',
  ]);
  const url = (await cli.waitForLog('serving', SIDECAR_READY_TIMEOUT_MS)).url as string;
  await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, {
    what: 'the sidecar ready',
    timeoutMs: SIDECAR_READY_TIMEOUT_MS,
  });
  await logged('not a backend', { backend: 'broken', reason: 'auth-unresolved' });
  await logged('several kinds of the group share this name; the first in precedence wins', {
    backend: 'fetch',
  });
  // The next resync's reads fail for a transient reason: served backends are kept as they are.
  fake.faults.failNext(6, { status: 503 });
  await logged('read failing for now; keeping the backend as last resolved, retrying');
  await logged('read recovered');
  // Then for a definitive one: the backends are removed, and retried.
  fake.faults.failNext(6, { status: 400 });
  await logged('conversion failed; backend removed, retrying');
  // Watches dropped, and their next requests refused.
  fake.faults.failNext(20, { status: 500 });
  fake.faults.dropWatches();
  await logged('watch failed; retrying', { resource: 'mcpservers', namespace: 'default' });
  cli.kill('SIGTERM');
  expect((await cli.exited).code).toBe(0);
  lines = cli.stdout.split('\n').filter((line) => line !== '');
}, SIDECAR_READY_TIMEOUT_MS * 8);

afterAll(async () => {
  cli?.kill();
  await fake?.close();
});

describe('the log lines of a sidecar run', () => {
  it('are JSON objects with one value per key, at any depth', () => {
    expect(lines.length).toBeGreaterThan(30);
    const repeated = lines
      .map((line) => ({ line, keys: repeatedKeys(line) }))
      .filter(({ keys }) => keys.length > 0);
    expect(repeated).toEqual([]);
  });

  it("keep the logger's own name on every line, and name a backend as `backend`", () => {
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.filter((line) => line.name !== NAME)).toEqual([]);
    const upserted = parsed.filter((line) => line.msg === 'backend upserted');
    expect(upserted.map((line) => line.backend).sort()).toEqual(
      expect.arrayContaining(['bedrock', 'docs', 'fetch', 'github', 'jira', 'wiki']),
    );
  });

  it('bind each context once: the watcher its namespace and group, each watch its resource', () => {
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const synced = parsed.filter((line) => line.msg === 'synced');
    expect(synced.map((line) => line.resource).sort()).toEqual([
      'configmaps',
      'mcpexternalauthconfigs',
      'mcpremoteproxies',
      'mcpserverentries',
      'mcpservers',
    ]);
    for (const line of synced) expect(line).toMatchObject({ namespace: 'default', group: GROUP });
    expect(cli.stderr).toBe('');
  });
});
