/**
 * The RegistryReader contract (the suite `@vmcp/registry` runs on its own registries) on the
 * client, against the built `vmcp-backend-watcher` binary with the fake API server behind it.
 */
import { type ContractSubject, describeRegistryReaderContract } from '@vmcp/registry/testing';
import * as vitest from 'vitest';
import { connectRegistry } from '../src/index.js';
import { SidecarCluster, TOKEN } from './support/sidecar.js';

describeRegistryReaderContract(
  'registry-client against the sidecar binary',
  async () => {
    const cluster = await SidecarCluster.start();
    const sidecar = await cluster.startSidecar();
    const client = connectRegistry({ url: sidecar.url, token: TOKEN });
    await client.ready;
    const subject: ContractSubject = {
      reader: client,
      change: async ({ upsert = [], remove = [] }) => {
        for (const name of upsert) await cluster.put(name);
        for (const name of remove) await cluster.remove(name);
        await cluster.sidecarHolds(sidecar);
      },
      source: () => sidecar.list(),
      close: async () => {
        await client.close();
        await cluster.close();
      },
    };
    return subject;
  },
  vitest,
);
