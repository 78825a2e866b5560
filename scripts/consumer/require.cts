// The packages from a CommonJS module: Node 22.12+ require()s ES modules (without top-level
// await), and TypeScript 5.8+ types that under nodenext.
import { createApiServer } from '@vmcp/backend-watcher';
import { createObjectReader } from '@vmcp/discoverer';
import { KUBERNETES_SOURCE_VERSION } from '@vmcp/envtest';
import { readYamlObjects } from '@vmcp/fake-apiserver';
import { childLogger } from '@vmcp/kube-runtime';
import { FakeClock } from '@vmcp/kube-runtime/testing';
import { BackendReconciler } from '@vmcp/reconciler';
import { createDynamicRegistry } from '@vmcp/registry';
import { connectRegistry } from '@vmcp/registry-client';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';

const registry = createDynamicRegistry();
export const used = [
  createApiServer,
  createObjectReader([]),
  KUBERNETES_SOURCE_VERSION.length,
  readYamlObjects,
  childLogger(console, { component: 'consumer' }),
  new FakeClock(),
  BackendReconciler,
  registry.count(),
  connectRegistry,
  toolhiveCrdPaths.length,
];
