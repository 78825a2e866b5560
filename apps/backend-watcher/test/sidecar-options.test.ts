import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FLAG_RANGES } from '../src/config.js';
import { type SidecarOptions, startSidecar } from '../src/sidecar.js';

// Nothing listens on port 1: a sidecar that starts retries its watches until it is closed.
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const base: SidecarOptions = {
  kubeConfig,
  namespace: 'tools',
  groupRef: 'g',
  listen: '127.0.0.1:0',
};

const OPTIONS = [
  ['gracePeriodMs', FLAG_RANGES['grace-period']],
  ['heartbeatMs', FLAG_RANGES['heartbeat-interval']],
  ['resyncPeriodMs', FLAG_RANGES['resync-period']],
  ['readTimeoutMs', FLAG_RANGES['read-timeout']],
  ['secretRefreshPeriodMs', FLAG_RANGES['secret-refresh-period']],
  ['initialSyncTimeoutMs', FLAG_RANGES['initial-sync-timeout']],
] as const;

describe.each(OPTIONS)('startSidecar option %s', (option, { min: minMs, max: maxMs }) => {
  it.each([
    [minMs > 0 ? minMs / 2 : -1, 'is below the minimum'],
    [maxMs + 1, 'is above the maximum'],
    [Number.NaN, 'is not a finite number'],
    [Number.POSITIVE_INFINITY, 'is not a finite number'],
  ])('rejects %d with a RangeError naming it, before anything starts', async (value, problem) => {
    const starting = startSidecar({ ...base, [option]: value });
    await expect(starting).rejects.toThrow(RangeError);
    await expect(starting).rejects.toThrow(`${option} ${value} ${problem}`);
  });

  it.each([minMs, maxMs])('starts with %d', async (value) => {
    const sidecar = await startSidecar({ ...base, [option]: value });
    await sidecar.close();
  });
});
