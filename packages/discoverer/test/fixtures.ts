import type { KubeObjectLike } from '../src/index.js';

export const NS = 'tools';
export const GROUP = 'engineering';
const API = 'toolhive.stacklok.dev/v1beta1';

type Spec = Record<string, unknown>;
type Extra = { spec?: Spec; status?: Spec; annotations?: Record<string, string> };

export function mcpServer(name: string, extra: Extra = {}): KubeObjectLike {
  return {
    apiVersion: API,
    kind: 'MCPServer',
    metadata: {
      name,
      namespace: NS,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: {
      image: 'ghcr.io/example/fetch',
      transport: 'streamable-http',
      groupRef: { name: GROUP },
      ...extra.spec,
    },
    status: { phase: 'Ready', url: `http://${name}.${NS}.svc.cluster.local:8080`, ...extra.status },
  };
}

export function remoteProxy(name: string, extra: Extra = {}): KubeObjectLike {
  return {
    apiVersion: API,
    kind: 'MCPRemoteProxy',
    metadata: {
      name,
      namespace: NS,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: {
      remoteUrl: 'https://mcp.example.com/mcp',
      transport: 'streamable-http',
      groupRef: { name: GROUP },
      ...extra.spec,
    },
    status: {
      phase: 'Ready',
      url: `http://${name}-proxy.${NS}.svc.cluster.local:8080`,
      ...extra.status,
    },
  };
}

export function serverEntry(name: string, extra: Extra = {}): KubeObjectLike {
  return {
    apiVersion: API,
    kind: 'MCPServerEntry',
    metadata: {
      name,
      namespace: NS,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: {
      remoteUrl: 'https://remote.example.com/mcp',
      transport: 'streamable-http',
      groupRef: { name: GROUP },
      ...extra.spec,
    },
    status: { phase: 'Valid', ...extra.status },
  };
}

export function authConfig(name: string, spec: Spec): KubeObjectLike {
  return {
    apiVersion: API,
    kind: 'MCPExternalAuthConfig',
    metadata: { name, namespace: NS },
    spec,
  };
}

export function secret(name: string, data: Record<string, string>): KubeObjectLike {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NS },
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  };
}

export function configMap(name: string, data: Record<string, string>): KubeObjectLike {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data };
}

export const PEM =
  '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTest\n-----END CERTIFICATE-----\n';
