// Each package through import, and a program's first steps with the consumer's own client-node:
// how importKubeConfig loaded KubeConfig (its one log line; first, as a program's start does,
// before anything else loads client-node), then a list through KubeClient, with a KubeConfig of
// the consumer's copy, against the fake API server, and the client-node the testing helpers see.
const { importKubeConfig, KubeClient, ResourceClient } = await import('@vmcp/kube-runtime');
const logs = [];
const logger = {
  debug: () => {},
  info: (fields, message) => logs.push({ ...fields, message }),
  warn: () => {},
  error: () => {},
};
const Loaded = await importKubeConfig({ logger });

const names = process.argv.slice(2);
const exported = {};
for (const name of names) exported[name] = Object.keys(await import(name)).length;

const { KubeConfig: OwnKubeConfig } = await import('@kubernetes/client-node');
const { installedClientNode } = await import('@vmcp/kube-runtime/testing');
const { startFakeApiServer } = await import('@vmcp/fake-apiserver');
const server = await startFakeApiServer();
try {
  const kubeConfig = new OwnKubeConfig();
  kubeConfig.loadFromFile(server.kubeconfigPath);
  const client = new KubeClient(kubeConfig);
  const resource = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };
  const namespaces = await new ResourceClient(client, { ...resource, namespaced: false }).list();
  await client.close();
  console.log(
    JSON.stringify({
      exported,
      logs,
      sameClass: Loaded === OwnKubeConfig,
      fakeUsesOwn: server.kubeConfig instanceof OwnKubeConfig,
      namespaces: namespaces.items.map((item) => item.metadata.name),
      testingClientNode: installedClientNode().version,
    }),
  );
} finally {
  await server.close();
}
