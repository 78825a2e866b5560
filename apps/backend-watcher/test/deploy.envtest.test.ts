import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Env, startEnv } from '@vmcp/envtest';
import { KubeClient, type KubeObject, ResourceClient, type ResourceRef } from '@vmcp/kube-runtime';
import { RESOURCES } from '@vmcp/reconciler';
import { eventually } from '@vmcp/test-support';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { applyManifests, readManifests } from '../src/manifests.js';
import { type Sidecar, startSidecar } from '../src/sidecar.js';
import { SIDECAR_READY_TIMEOUT_MS } from './support/process.js';

const run = promisify(execFile);
const NS = 'default';
const KUBERNETES = fileURLToPath(new URL('../deploy/kubernetes', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../examples', import.meta.url));
const ROLE_BINDING: ResourceRef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'rolebindings',
  kind: 'RoleBinding',
};
const ROLE: ResourceRef = { ...ROLE_BINDING, plural: 'roles', kind: 'Role' };

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
const shippedRole = parse(readFileSync(`${KUBERNETES}/role.yaml`, 'utf8')) as KubeObject & {
  rules: Rule[];
};

let env: Env;
let admin: KubeClient;
let roles: ResourceClient;
let bindings: ResourceClient;
const sidecars: Sidecar[] = [];

/** Captured log entries of a sidecar. */
function memoryLogger() {
  const entries: Record<string, unknown>[] = [];
  const logger = {
    entries,
    child: () => logger,
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (fields: unknown, msg?: string) =>
      entries.push({ level: 'warn', msg, ...(fields as object) }),
    error: (fields: unknown, msg?: string) =>
      entries.push({ level: 'error', msg, ...(fields as object) }),
  };
  return logger;
}

async function kubectl(args: string[], kubeconfig = env.kubeconfigPath) {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Installs the shipped Role (or a variant) and binds it to the envtest non-admin user. */
async function grant(rules: Rule[]): Promise<void> {
  const role = { ...shippedRole, metadata: { name: 'vmcp-backend-watcher' }, rules } as KubeObject;
  try {
    const current = await roles.get('vmcp-backend-watcher');
    await roles.replace({
      ...role,
      metadata: { ...role.metadata, resourceVersion: current.metadata.resourceVersion },
    });
  } catch {
    await roles.create(role);
  }
}

async function startAsWatcherUser(initialSyncTimeoutMs?: number): Promise<{
  sidecar: Sidecar;
  log: ReturnType<typeof memoryLogger>;
}> {
  const log = memoryLogger();
  const sidecar = await startSidecar({
    kubeConfig: env.nonAdmin.kubeConfig,
    namespace: NS,
    groupRef: 'engineering',
    listen: '127.0.0.1:0',
    logger: log,
    watcher: { backoff: { initialMs: 100, maxMs: 500 } },
    ...(initialSyncTimeoutMs === undefined ? {} : { initialSyncTimeoutMs }),
  });
  sidecars.push(sidecar);
  return { sidecar, log };
}

beforeAll(async () => {
  env = await startEnv({ watchCache: false });
  admin = new KubeClient(env.kubeConfig);
  roles = new ResourceClient(admin, ROLE, NS);
  bindings = new ResourceClient(admin, ROLE_BINDING, NS);
  await applyManifests(admin, NS, readManifests(EXAMPLES));
  // The shipped RoleBinding binds the ServiceAccount; here the subject is envtest's user.
  const binding = parse(readFileSync(`${KUBERNETES}/rolebinding.yaml`, 'utf8')) as KubeObject;
  await bindings.create({
    ...binding,
    subjects: [
      { kind: 'User', name: env.nonAdmin.username, apiGroup: 'rbac.authorization.k8s.io' },
    ],
  } as KubeObject);
});
afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.close()));
  await admin?.close();
  await env?.stop();
});
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(env.logs(30))));

describe('deploy/kubernetes', () => {
  it('is accepted by the API server (kubectl apply -k --dry-run=server)', async () => {
    // A namespace of its own, so that nothing of the other tests' RBAC objects is in the way.
    expect((await kubectl(['create', 'namespace', 'vmcp-system'])).code).toBe(0);
    const result = await kubectl([
      'apply',
      '-k',
      KUBERNETES,
      '--dry-run=server',
      '-n',
      'vmcp-system',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const object of [
      'serviceaccount/vmcp-backend-watcher',
      'role.rbac.authorization.k8s.io/vmcp-backend-watcher',
      'rolebinding.rbac.authorization.k8s.io/vmcp-backend-watcher',
      'deployment.apps/vmcp',
    ]) {
      expect(result.stdout).toContain(`${object} created (server dry run)`);
    }
  });

  it('runs the sidecar with probes on its own endpoints, non-root, read-only, no capabilities', () => {
    const deployment = parseAllDocuments(
      readFileSync(`${KUBERNETES}/deployment.yaml`, 'utf8'),
    )[0]?.toJS() as {
      spec: {
        template: { spec: { containers: Record<string, never>[]; serviceAccountName: string } };
      };
    };
    const pod = deployment.spec.template.spec;
    const watcher = pod.containers.find((c) => c.name === 'backend-watcher') as unknown as {
      livenessProbe: { httpGet: { path: string } };
      readinessProbe: { httpGet: { path: string } };
      securityContext: Record<string, unknown>;
      env: { name: string }[];
    };
    expect(pod.serviceAccountName).toBe('vmcp-backend-watcher');
    expect(watcher.livenessProbe.httpGet.path).toBe('/healthz');
    expect(watcher.readinessProbe.httpGet.path).toBe('/readyz');
    expect(watcher.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(watcher.env.map((e) => e.name)).toEqual(
      expect.arrayContaining(['VMCP_GROUP', 'POD_NAMESPACE']),
    );
  });
});

describe('the shipped Role', () => {
  it('is enough: the watcher runs as the bound non-admin user and serves every example backend', async () => {
    await grant(shippedRole.rules);
    const { sidecar } = await startAsWatcherUser();
    try {
      expect(
        await sidecar.watcher.waitForRegistrySync({ timeoutMs: SIDECAR_READY_TIMEOUT_MS }),
      ).toBe(true);
      expect(sidecar.registry.list().map((b) => b.id)).toEqual([
        'bedrock',
        'docs',
        'fetch',
        'github',
        'jira',
        'wiki',
      ]);
      expect(sidecar.registry.get('github')?.authConfig).toMatchObject({
        type: 'header_injection',
      });
    } finally {
      await sidecar.close();
    }
  });

  it('grants nothing more: no Secret listing, no writes, no other namespace, no groups', async () => {
    await grant(shippedRole.rules);
    const can = async (...args: string[]) =>
      (await kubectl(['auth', 'can-i', ...args], env.nonAdmin.kubeconfigPath)).stdout.trim();
    expect(await can('get', 'secrets', '-n', NS)).toBe('yes');
    expect(await can('watch', 'mcpservers.toolhive.stacklok.dev', '-n', NS)).toBe('yes');
    for (const denied of [
      ['list', 'secrets', '-n', NS],
      ['watch', 'secrets', '-n', NS],
      ['create', 'mcpservers.toolhive.stacklok.dev', '-n', NS],
      ['patch', 'mcpservers.toolhive.stacklok.dev', '--subresource=status', '-n', NS],
      ['delete', 'configmaps', '-n', NS],
      ['update', 'mcpexternalauthconfigs.toolhive.stacklok.dev', '-n', NS],
      ['get', 'mcpgroups.toolhive.stacklok.dev', '-n', NS],
      ['list', 'mcpservers.toolhive.stacklok.dev', '-n', 'kube-system'],
      ['get', 'secrets', '-n', 'kube-system'],
      ['list', 'pods', '-n', NS],
    ]) {
      expect(`${denied.join(' ')}: ${await can(...denied)}`).toBe(`${denied.join(' ')}: no`);
    }
  });

  it.each([
    ['watch', 'mcpservers'],
    ['list', 'configmaps'],
  ])(
    'is not enough without %s on %s: the watcher reports 403, keeps retrying, and follows changes once granted',
    async (verb, resource) => {
      const narrowed = shippedRole.rules
        .map((rule) =>
          rule.resources.includes(resource)
            ? { ...rule, resources: rule.resources.filter((r) => r !== resource) }
            : rule,
        )
        .filter((rule) => rule.resources.length > 0);
      narrowed.push({
        apiGroups: resource === 'configmaps' ? [''] : ['toolhive.stacklok.dev'],
        resources: [resource],
        verbs: ['get', 'list', 'watch'].filter((v) => v !== verb),
      });
      await grant(narrowed);
      const { sidecar, log } = await startAsWatcherUser();
      const servers = new ResourceClient(admin, RESOURCES.MCPServer, NS);
      const name = `late-${verb}`;
      try {
        await eventually(() =>
          expect(JSON.stringify(log.entries)).toMatch(
            new RegExp(`${resource}[^\n]*403|403[^\n]*${resource}`),
          ),
        );
        expect(sidecar.watcher.isAlive()).toBe(true);
        if (verb === 'list') {
          // A cache that cannot list never syncs: not ready, nothing served.
          expect(sidecar.watcher.hasSynced()).toBe(false);
          expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(503);
        }
        await grant(shippedRole.rules);
        expect(
          await sidecar.watcher.waitForRegistrySync({ timeoutMs: SIDECAR_READY_TIMEOUT_MS }),
        ).toBe(true);
        await servers.create({
          apiVersion: 'toolhive.stacklok.dev/v1beta1',
          kind: 'MCPServer',
          metadata: { name },
          spec: { image: 'example/mcp:1', transport: 'sse', groupRef: { name: 'engineering' } },
        } as KubeObject);
        await servers.patchStatus(name, { status: { phase: 'Ready', url: `http://${name}:8080` } });
        await eventually(() =>
          expect(sidecar.registry.get(name)?.baseUrl).toBe(`http://${name}:8080`),
        );
        expect(sidecar.registry.count()).toBe(7);
      } finally {
        await sidecar.close();
        await servers.delete(name).catch(() => undefined);
      }
    },
  );

  it('without get on Secrets, the backends that need one are kept out, /readyz names them from its bound on, and they appear once granted', async () => {
    await grant(shippedRole.rules.filter((rule) => !rule.resources.includes('secrets')));
    const { sidecar, log } = await startAsWatcherUser(5_000);
    try {
      const needSecrets = ['docs', 'github', 'wiki'];
      await eventually(async () => {
        const readyz = await fetch(`${sidecar.url}/readyz`);
        expect(readyz.status).toBe(503);
        expect(await readyz.json()).toEqual({
          status: 'registry not synced',
          pending: needSecrets,
          pendingCount: 3,
        });
      });
      expect(
        await sidecar.watcher.waitForRegistrySync({ timeoutMs: SIDECAR_READY_TIMEOUT_MS }),
      ).toBe(true);
      expect(await (await fetch(`${sidecar.url}/readyz`)).json()).toEqual({
        status: 'ready',
        pending: needSecrets,
        pendingCount: 3,
      });
      // fetch (unauthenticated), jira (upstream inject) and bedrock (AWS STS) read no Secret.
      expect(sidecar.registry.list().map((b) => b.id)).toEqual(['bedrock', 'fetch', 'jira']);
      // A 403 of its own reads is kept as a warning, not served, not removed.
      expect(log.entries).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          backend: 'github',
          reason: 'forbidden',
          err: expect.stringContaining(
            'Secret default/github-token could not be read (403 Forbidden)',
          ),
        }),
      );
      await grant(shippedRole.rules);
      await eventually(() => expect(sidecar.registry.count()).toBe(6));
      expect(await (await fetch(`${sidecar.url}/readyz`)).json()).toEqual({ status: 'ready' });
    } finally {
      await sidecar.close();
    }
  });
});

// The RBAC objects above are the cluster's; make sure the shipped Role only names what the
// watcher reads (a guard against widening it by accident).
it('the shipped Role lists exactly the resources the watcher reads', () => {
  const watched = Object.values(RESOURCES)
    .filter((r) => r.kind !== 'Secret')
    .map((r) => r.plural)
    .sort();
  const listed = shippedRole.rules
    .filter((rule) => rule.verbs.includes('watch'))
    .flatMap((rule) => rule.resources)
    .sort();
  expect(listed).toEqual(watched);
  expect(shippedRole.rules.find((rule) => rule.resources.includes('secrets'))?.verbs).toEqual([
    'get',
  ]);
});
