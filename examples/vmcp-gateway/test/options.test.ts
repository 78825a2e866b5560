import { createDynamicRegistry } from '@vmcp/registry';
import { describe, expect, it } from 'vitest';
import { type GatewayOptions, startGateway } from '../src/gateway.js';
import { inProcessSource } from '../src/registry-source.js';

/** The gateway's durations follow the workspace's rule: a RangeError naming the option, before it listens. */
describe('startGateway durations', () => {
  const start = (options: Partial<GatewayOptions>) =>
    startGateway({
      source: inProcessSource(createDynamicRegistry()),
      listen: { host: '127.0.0.1', port: 0 },
      env: {},
      ...options,
    });

  it.each([
    [{ healthCheckIntervalMs: 99 }, /^healthCheckIntervalMs 99 is below the minimum of/],
    [{ healthCheckIntervalMs: 3_600_001 }, /^healthCheckIntervalMs 3600001 is above the maximum/],
    [{ requestTimeoutMs: Number.NaN }, /^requestTimeoutMs NaN is not a finite number/],
    [{ requestTimeoutMs: 600_001 }, /^requestTimeoutMs 600001 is above the maximum/],
    [{ retry: { initialMs: 0 } }, /^retry\.initialMs 0 is below the minimum/],
    [{ retry: { initialMs: 1_000, maxMs: 999 } }, /^retry\.maxMs 999 is below the minimum/],
    [{ retry: { maxMs: 2 ** 31 } }, /^retry\.maxMs 2147483648 is above the maximum/],
  ] satisfies [Partial<GatewayOptions>, RegExp][])('refuses %o', async (options, message) => {
    await expect(start(options)).rejects.toThrow(message);
  });

  it('takes each limit itself', async () => {
    const gateway = await start({
      healthCheckIntervalMs: 100,
      requestTimeoutMs: 600_000,
      retry: { initialMs: 60_000, maxMs: 3_600_000 },
    });
    await gateway.close();
  });
});
