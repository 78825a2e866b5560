/**
 * Objects the app's envtest files create through the admin's clients: workloads of a group, and
 * Secret-backed ones (a Secret `key-<name>`, an auth config `auth-<name>` injecting it as `X-Key`).
 */
import { type KubeClient, type KubeObject, ResourceClient } from '@vmcp/kube-runtime';
import { RESOURCES } from '@vmcp/reconciler';

export const API = 'toolhive.stacklok.dev/v1beta1';

/** One client per resource the watcher reads, in `namespace`. */
export type Clients = Record<keyof typeof RESOURCES, ResourceClient>;

export function clientsFor(client: KubeClient, namespace: string): Clients {
  return Object.fromEntries(
    Object.entries(RESOURCES).map(([kind, resource]) => [
      kind,
      new ResourceClient(client, resource, namespace),
    ]),
  ) as Clients;
}

/** A Ready MCPServer of `group` at `http://<name>.<group>.svc:8080`. */
export async function createServer(
  clients: Clients,
  name: string,
  group: string,
  spec: object = {},
): Promise<void> {
  await clients.MCPServer.create({
    apiVersion: API,
    kind: 'MCPServer',
    metadata: { name },
    spec: {
      image: 'ghcr.io/example/mcp:1',
      transport: 'streamable-http',
      groupRef: { name: group },
      ...spec,
    },
  } as KubeObject);
  await clients.MCPServer.patchStatus(name, {
    status: { phase: 'Ready', url: `http://${name}.${group}.svc:8080` },
  });
}

/** A Ready MCPServer whose header auth reads Secret `key-<name>` (key `value`, holding `value`). */
export async function createSecretServer(
  clients: Clients,
  name: string,
  group: string,
  value: string,
): Promise<void> {
  await clients.Secret.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `key-${name}` },
    data: { value: Buffer.from(value).toString('base64') },
  } as KubeObject);
  await clients.MCPExternalAuthConfig.create({
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name: `auth-${name}` },
    spec: {
      type: 'headerInjection',
      headerInjection: {
        headerName: 'X-Key',
        valueSecretRef: { name: `key-${name}`, key: 'value' },
      },
    },
  } as KubeObject);
  await createServer(clients, name, group, { externalAuthConfigRef: { name: `auth-${name}` } });
}
