/**
 * The in-process API server with an {@link ApiProxy} in front, and BackendWatchers against it:
 * the harness of the `*.fake.test.ts` files. `useFakeCluster()` starts a fresh one per test.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import type { KubeObject } from '@vmcp/kube-runtime';
import { createDynamicRegistry, type DynamicRegistry } from '@vmcp/registry';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterEach, beforeEach, expect } from 'vitest';
import { BackendWatcher, type BackendWatcherOptions } from '../../src/index.js';
import { type ApiProxy, startApiProxy } from './api-proxy.js';

export const NS = 'default';
export const GROUP = 'engineering';
export const API = 'toolhive.stacklok.dev/v1beta1';
/** A ceiling for conditions that wait on the in-process server. */
export const WAIT = { timeout: 30_000, interval: 20 };

export interface FakeCluster {
  readonly fake: FakeApiServer;
  readonly proxy: ApiProxy;
  load(objects: object[]): void;
  /** A watcher through the proxy; resync and secret refresh off unless `options` turn them on. */
  start(options?: Partial<BackendWatcherOptions>): {
    registry: DynamicRegistry;
    watcher: BackendWatcher;
    stop: AbortController;
  };
  /** Replaces the `value` key of a Secret (a rotation: its resourceVersion moves). */
  putSecret(name: string, value: string): Promise<void>;
  /** Merge-patches an object at its API path. */
  patch(path: string, body: object): Promise<void>;
  /** Deletes an object at its API path. */
  remove(path: string): Promise<void>;
}

/** A fresh cluster for every test of the file (the returned object reads the current one). */
export function useFakeCluster(): FakeCluster {
  let fake: FakeApiServer;
  let proxy: ApiProxy;
  let kubeConfig: KubeConfig;
  const running: { stop: AbortController; done: Promise<void> }[] = [];
  beforeEach(async () => {
    fake = await startFakeApiServer({ https: false, crds: toolhiveCrdPaths });
    proxy = await startApiProxy(fake.url);
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: proxy.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: fake.token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: NS }],
      currentContext: 'x',
    });
  });
  afterEach(async () => {
    for (const { stop } of running) stop.abort();
    await Promise.all(running.splice(0).map(({ done }) => done));
    await proxy.close();
    await fake.close();
  });
  const send = async (method: string, path: string, body?: object) => {
    const response = await fetch(`${fake.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${fake.token}`,
        'content-type': 'application/merge-patch+json',
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.status).toBe(200);
  };
  const patch = (path: string, body: object) => send('PATCH', path, body);
  return {
    get fake() {
      return fake;
    },
    get proxy() {
      return proxy;
    },
    load: (objects) => fake.load(objects as KubeObject[]),
    start(options = {}) {
      const registry = createDynamicRegistry();
      const watcher = new BackendWatcher({
        kubeConfig,
        namespace: NS,
        groupRef: GROUP,
        registry,
        resyncPeriodMs: 0,
        secretRefreshPeriodMs: 0,
        ...options,
      });
      const stop = new AbortController();
      running.push({ stop, done: watcher.start(stop.signal) });
      return { registry, watcher, stop };
    },
    putSecret: (name, value) =>
      patch(`/api/v1/namespaces/${NS}/secrets/${name}`, {
        data: { value: Buffer.from(value).toString('base64') },
      }),
    patch,
    remove: (path) => send('DELETE', path),
  };
}

/** The API path of a Secret of the namespace. */
export const secretPath = (name: string) => `/api/v1/namespaces/${NS}/secrets/${name}`;

/**
 * An MCPServer whose header auth reads Secret `secret` (default `secret-<name>`), with that Secret
 * (value `<value>-<name>`) and its auth config `auth-<name>`.
 */
export function secretBackend(
  name: string,
  options: { secret?: string; value?: string } = {},
): object[] {
  const secret = options.secret ?? `secret-${name}`;
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret, namespace: NS },
      data: { value: Buffer.from(`${options.value ?? 'value'}-${secret}`).toString('base64') },
    },
    {
      apiVersion: API,
      kind: 'MCPExternalAuthConfig',
      metadata: { name: `auth-${name}`, namespace: NS },
      spec: {
        type: 'headerInjection',
        headerInjection: { headerName: 'X-Key', valueSecretRef: { name: secret, key: 'value' } },
      },
    },
    {
      apiVersion: API,
      kind: 'MCPServer',
      metadata: { name, namespace: NS },
      spec: {
        image: 'example/mcp:1',
        transport: 'streamable-http',
        groupRef: { name: GROUP },
        externalAuthConfigRef: { name: `auth-${name}` },
      },
      status: { phase: 'Ready', url: `http://${name}:8080` },
    },
  ];
}

/** The header value a backend serves, if any. */
export const headerValue = (backend: unknown): unknown =>
  (backend as { authConfig?: { headerValue?: unknown } } | undefined)?.authConfig?.headerValue;
