import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import type { FaultControls } from './faults.js';
import { FakeApi } from './server.js';
import type { KubeObject } from './types.js';

/** Options of {@link startFakeApiServer}. */
export interface FakeApiServerOptions {
  /**
   * Serve HTTPS with a fresh self-signed certificate (made with `openssl`), as a real API server
   * does. Default true: kubectl sends bearer tokens only over TLS. `false` serves plain HTTP.
   */
  https?: boolean;
  /** Loopback port; default 0 (any free port). */
  port?: number;
  /** Bearer tokens accepted; default one random token. A request without one of them gets 401. */
  tokens?: string[];
  /** CRD manifest files to install at start. */
  crds?: readonly string[];
  /** YAML manifest files whose objects are created at start (their `status` blocks included). */
  manifests?: readonly string[];
  /** Namespace for namespaced objects of `manifests` that name none. Default `default`. */
  namespace?: string;
  /** Changes kept for watches from an older resourceVersion. Default 10000. */
  historyLimit?: number;
  /**
   * Bookmark interval of watches that allow them: 1 ms to 24 h (else a `RangeError`). Default
   * 60 s (as kube-apiserver).
   */
  bookmarkIntervalMs?: number;
}

/** A running fake API server. */
export interface FakeApiServer extends AsyncDisposable {
  /** `http(s)://127.0.0.1:PORT`. */
  readonly url: string;
  /** A client config for the first token. */
  readonly kubeConfig: KubeConfig;
  /** A kubeconfig file for the first token (for kubectl and child processes). */
  readonly kubeconfigPath: string;
  readonly token: string;
  readonly faults: FaultControls;
  /** Creates objects as a manifest would (for test setup). */
  load(objects: readonly KubeObject[]): void;
  close(): Promise<void>;
}

/** Every object of the YAML documents of a file. */
export function readYamlObjects(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
      return document.toJS() as KubeObject | null;
    })
    .filter(
      (o): o is KubeObject => o !== null && typeof o === 'object' && typeof o.kind === 'string',
    );
}

/** Loads the CRD files, then the manifests into `namespace`. */
function loadFiles(api: FakeApi, options: FakeApiServerOptions, namespace: string): void {
  for (const file of options.crds ?? []) for (const crd of readYamlObjects(file)) api.load(crd);
  for (const file of options.manifests ?? []) {
    for (const object of readYamlObjects(file)) api.load(object, namespace);
  }
}

/**
 * Starts an in-process Kubernetes API server on loopback: discovery, OpenAPI, Namespaces,
 * ConfigMaps, Secrets, CRDs and their custom resources, list/watch with the real server's
 * resourceVersion semantics, and fault controls for tests.
 */
export async function startFakeApiServer(
  options: FakeApiServerOptions = {},
): Promise<FakeApiServer> {
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
  if (!(bookmarkIntervalMs >= 1 && bookmarkIntervalMs <= 86_400_000)) {
    throw new RangeError(
      `bookmarkIntervalMs ${bookmarkIntervalMs} is not a number of milliseconds from 1 to 86400000 (24h)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-fake-apiserver-'));
  const tokens = options.tokens?.length ? options.tokens : [randomBytes(16).toString('hex')];
  const namespace = options.namespace ?? 'default';
  let address = '127.0.0.1:0';
  const api = new FakeApi({
    tokens,
    historyLimit: options.historyLimit ?? 10_000,
    bookmarkIntervalMs,
    address: () => address,
  });
  const https = options.https ?? true;
  let served: { server: Server; ca: string | undefined };
  try {
    loadFiles(api, options, namespace);
    served = createServer(api, https ? dir : undefined);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { server, ca } = served;
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => resolve());
  });
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${https ? 'https' : 'http'}://${address}`;
  const token = tokens[0] as string;
  const kubeconfigText = kubeconfigFor(url, ca, token, namespace);
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigText, { mode: 0o600 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfigText);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      api.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    })();
    return closing;
  };
  return {
    url,
    kubeConfig,
    kubeconfigPath,
    token,
    faults: api,
    load: (objects) => {
      for (const object of objects) api.load(object, namespace);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The server for the handler: HTTPS with a fresh self-signed certificate made in `tlsDirectory`
 * (with `openssl`), or plain HTTP without one.
 */
function createServer(api: FakeApi, tlsDirectory: string | undefined) {
  if (tlsDirectory === undefined) {
    return { server: createHttpServer((req, res) => api.handle(req, res)), ca: undefined };
  }
  const keyPath = join(tlsDirectory, 'tls.key');
  const certPath = join(tlsDirectory, 'tls.crt');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=vmcp-fake-apiserver',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new Error(
      `https needs openssl to make a self-signed certificate: ${(error as Error).message}`,
    );
  }
  const ca = readFileSync(certPath, 'utf8');
  const server: Server = createHttpsServer({ key: readFileSync(keyPath), cert: ca }, (req, res) =>
    api.handle(req, res),
  );
  return { server, ca };
}

/** A kubeconfig (YAML) for the server's URL, its CA and one token. */
function kubeconfigFor(
  url: string,
  ca: string | undefined,
  token: string,
  namespace: string,
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'fake',
        cluster: {
          server: url,
          ...(ca ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : {}),
        },
      },
    ],
    users: [{ name: 'fake', user: { token } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
    'current-context': 'fake',
  });
}
