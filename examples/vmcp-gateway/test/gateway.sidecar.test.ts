import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { describeGatewayEndToEnd } from './support/scenarios.js';

describeGatewayEndToEnd('gateway behind the built sidecar, on the fake API server', () =>
  startFakeApiServer({ crds: toolhiveCrdPaths }),
);
