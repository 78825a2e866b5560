import { describe, expect, it } from 'vitest';
import {
  type ConversionOutcome,
  createObjectReader,
  discover,
  getWorkloadAsBackend,
  headerForwardIdentifier,
  type KubeObjectLike,
  listWorkloadsInGroup,
  mcpRemoteProxyToBackend,
  mcpServerEntryHealth,
  mcpServerEntryToBackend,
  mcpServerToBackend,
  WorkloadNotFoundError,
} from '../src/index.js';
import {
  authConfig,
  configMap,
  GROUP,
  mcpServer,
  NS,
  PEM,
  remoteProxy,
  secret,
  serverEntry,
} from './fixtures.js';

const context = (...objects: KubeObjectLike[]) => ({ reader: createObjectReader(objects) });

function backendOf(outcome: ConversionOutcome) {
  if (outcome.kind !== 'backend')
    throw new Error(`expected a backend, got ${JSON.stringify(outcome)}`);
  return outcome.backend;
}

const tokenExchange = [
  authConfig('te', {
    type: 'tokenExchange',
    tokenExchange: {
      tokenUrl: 'https://idp/token',
      clientId: 'c',
      clientSecretRef: { name: 'te-secret', key: 'secret' },
    },
  }),
  secret('te-secret', { secret: 'client-secret-value' }),
];

describe('MCPServer', () => {
  it('converts the basic fields', async () => {
    const backend = backendOf(await mcpServerToBackend(mcpServer('fetch'), context()));
    expect(backend).toEqual({
      id: 'fetch',
      name: 'fetch',
      baseUrl: `http://fetch.${NS}.svc.cluster.local:8080`,
      transportType: 'streamable-http',
      healthStatus: 'healthy',
      metadata: {
        tool_type: 'mcp',
        workload_type: 'mcp_server',
        workload_status: 'Ready',
        namespace: NS,
      },
    });
    expect(backend).not.toHaveProperty('type');
  });

  it.each([
    ['stdio', 'sse', 'sse'],
    ['stdio', undefined, 'streamable-http'],
    ['stdio', 'streamable-http', 'streamable-http'],
    ['sse', 'streamable-http', 'sse'],
    ['streamable-http', 'sse', 'streamable-http'],
    ['SSE', undefined, 'sse'],
    ['carrier-pigeon', undefined, 'streamable-http'],
    [undefined, undefined, 'streamable-http'],
  ])('transport %s with proxyMode %s is %s for clients', async (transport, proxyMode, expected) => {
    const object = mcpServer('s', { spec: { transport, ...(proxyMode ? { proxyMode } : {}) } });
    expect(backendOf(await mcpServerToBackend(object, context())).transportType).toBe(expected);
  });

  it('puts annotations into metadata except system prefixes, and system keys win', async () => {
    const object = mcpServer('s', {
      annotations: {
        team: 'platform',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        'kubernetes.io/x': '1',
        'deployment.kubernetes.io/revision': '2',
        'k8s.io/y': '3',
        tool_type: 'overridden?',
      },
    });
    expect(backendOf(await mcpServerToBackend(object, context())).metadata).toEqual({
      team: 'platform',
      tool_type: 'mcp',
      workload_type: 'mcp_server',
      workload_status: 'Ready',
      namespace: NS,
    });
  });

  it.each([
    ['Ready', 'healthy'],
    ['Failed', 'unhealthy'],
    ['Terminating', 'unhealthy'],
    ['Stopped', 'unhealthy'],
    ['Pending', 'unknown'],
    ['', 'unknown'],
    ['Weird', 'unknown'],
  ])('phase %s is %s', async (phase, health) => {
    const backend = backendOf(
      await mcpServerToBackend(mcpServer('s', { status: { phase } }), context()),
    );
    expect(backend.healthStatus).toBe(health);
    expect(backend.metadata.workload_status).toBe(phase);
  });

  it('is skipped without a status URL (never a guessed one)', async () => {
    const outcome = await mcpServerToBackend(mcpServer('s', { status: { url: '' } }), context());
    expect(outcome).toMatchObject({ kind: 'skip', reason: 'no-url' });
  });

  it.each([
    'not a url',
    'http://',
    'https://exa mple.com/mcp',
    'http://[::1',
    'ftp://files.example/mcp',
    'javascript:alert(1)',
  ])('is skipped with an invalid status URL: %j', async (url) => {
    const outcome = await mcpServerToBackend(mcpServer('s', { status: { url } }), context());
    expect(outcome).toMatchObject({ kind: 'skip', reason: 'invalid-url' });
  });

  it.each([
    'http://s.tools.svc:8080',
    'https://s.example/mcp?x=1',
    'HTTPS://S.EXAMPLE/mcp',
    ' http://s.tools.svc:8080',
  ])('takes any http(s) URL the URL parser takes: %j', async (url) => {
    const outcome = await mcpServerToBackend(mcpServer('s', { status: { url } }), context());
    expect(backendOf(outcome).baseUrl).toBe(url);
  });

  it('resolves token exchange auth', async () => {
    const object = mcpServer('s', { spec: { externalAuthConfigRef: { name: 'te' } } });
    const backend = backendOf(await mcpServerToBackend(object, context(...tokenExchange)));
    expect(backend.authConfigRef).toBe('te');
    expect(backend.authConfig).toMatchObject({
      type: 'token_exchange',
      clientSecret: 'client-secret-value',
    });
  });

  it('is skipped when its auth config is missing or its Secret is', async () => {
    const object = mcpServer('s', { spec: { externalAuthConfigRef: { name: 'te' } } });
    expect(await mcpServerToBackend(object, context())).toMatchObject({
      kind: 'skip',
      reason: 'auth-unresolved',
    });
    const withoutSecret = context(tokenExchange[0] as KubeObjectLike);
    expect(await mcpServerToBackend(object, withoutSecret)).toMatchObject({
      kind: 'skip',
      reason: 'auth-unresolved',
      message: expect.stringContaining(`Secret ${NS}/te-secret not found`),
    });
  });

  it('reports a Secret read that failed for now as unavailable, to keep and retry', async () => {
    const reader = createObjectReader(tokenExchange);
    reader.getSecret = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {
        code: 'ECONNREFUSED',
      });
    };
    const object = mcpServer('s', { spec: { externalAuthConfigRef: { name: 'te' } } });
    const outcome = await mcpServerToBackend(object, { reader });
    expect(outcome.kind).toBe('unavailable');
    if (outcome.kind === 'unavailable')
      expect(outcome.error.message).toContain(
        'Secret tools/te-secret could not be read (ECONNREFUSED)',
      );
  });

  it.each([
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
  ])(
    'reports a Secret read refused to the reader (%i) as unavailable: kept, retried',
    async (code, reason) => {
      const reader = createObjectReader(tokenExchange);
      reader.getSecret = async () => {
        throw Object.assign(new Error('refused'), { code, reason });
      };
      const object = mcpServer('s', { spec: { externalAuthConfigRef: { name: 'te' } } });
      const outcome = await mcpServerToBackend(object, { reader });
      expect(outcome.kind).toBe('unavailable');
      if (outcome.kind === 'unavailable')
        expect(outcome.error.message).toContain(`could not be read (${code} ${reason})`);
    },
  );

  it('reports a Secret read refused for good (400) as an error, to remove and retry', async () => {
    const reader = createObjectReader(tokenExchange);
    reader.getSecret = async () => {
      throw Object.assign(new Error('bad'), { code: 400, reason: 'BadRequest' });
    };
    const object = mcpServer('s', { spec: { externalAuthConfigRef: { name: 'te' } } });
    const outcome = await mcpServerToBackend(object, { reader });
    expect(outcome.kind).toBe('error');
    if (outcome.kind === 'error')
      expect(outcome.error.message).toContain('could not be read (400 BadRequest)');
  });

  it('is skipped as other-group when a group is given and differs', async () => {
    const object = mcpServer('s', { spec: { groupRef: { name: 'other' } } });
    expect(await mcpServerToBackend(object, { ...context(), group: GROUP })).toMatchObject({
      kind: 'skip',
      reason: 'other-group',
    });
    expect((await mcpServerToBackend(object, context())).kind).toBe('backend');
  });

  it('accepts the legacy bare-string groupRef', async () => {
    const object = mcpServer('s', { spec: { groupRef: GROUP } });
    expect((await mcpServerToBackend(object, { ...context(), group: GROUP })).kind).toBe('backend');
  });

  it('is skipped with a readable reason when a field has the wrong shape', async () => {
    const outcome = await mcpServerToBackend(mcpServer('s', { spec: { groupRef: { name: 42 } } }), {
      ...context(),
      group: GROUP,
    });
    expect(outcome).toMatchObject({
      kind: 'skip',
      reason: 'invalid-object',
      message: `MCPServer ${NS}/s: spec.groupRef.name: expected string, got number`,
    });
  });

  it('names the part of a path that is not an object', async () => {
    const outcome = await mcpServerToBackend(
      mcpServer('s', { spec: { externalAuthConfigRef: 'auth' } }),
      context(),
    );
    expect(outcome).toMatchObject({
      kind: 'skip',
      reason: 'invalid-object',
      message: `MCPServer ${NS}/s: spec.externalAuthConfigRef: expected an object, got string`,
    });
  });
});

describe('MCPRemoteProxy', () => {
  it('converts the basic fields with remote_url metadata', async () => {
    const backend = backendOf(
      await mcpRemoteProxyToBackend(remoteProxy('gh', { annotations: { a: 'b' } }), context()),
    );
    expect(backend).toEqual({
      id: 'gh',
      name: 'gh',
      baseUrl: `http://gh-proxy.${NS}.svc.cluster.local:8080`,
      transportType: 'streamable-http',
      healthStatus: 'healthy',
      metadata: {
        a: 'b',
        tool_type: 'mcp',
        workload_type: 'remote_proxy',
        workload_status: 'Ready',
        remote_url: 'https://mcp.example.com/mcp',
        namespace: NS,
      },
    });
  });

  it.each([
    ['Ready', 'healthy'],
    ['Failed', 'unhealthy'],
    ['Terminating', 'unhealthy'],
    ['Stopped', 'unknown'],
    ['Pending', 'unknown'],
  ])('phase %s is %s', async (phase, health) => {
    const backend = backendOf(
      await mcpRemoteProxyToBackend(remoteProxy('p', { status: { phase } }), context()),
    );
    expect(backend.healthStatus).toBe(health);
  });

  it('uses sse when asked and ignores proxy mode', async () => {
    const object = remoteProxy('p', { spec: { transport: 'sse', proxyMode: 'streamable-http' } });
    expect(backendOf(await mcpRemoteProxyToBackend(object, context())).transportType).toBe('sse');
  });

  it('resolves token exchange auth', async () => {
    const object = remoteProxy('p', { spec: { externalAuthConfigRef: { name: 'te' } } });
    expect(
      backendOf(await mcpRemoteProxyToBackend(object, context(...tokenExchange))).authConfig?.type,
    ).toBe('token_exchange');
  });

  it('is skipped without a status URL', async () => {
    expect(
      await mcpRemoteProxyToBackend(remoteProxy('p', { status: { url: undefined } }), context()),
    ).toMatchObject({
      reason: 'no-url',
    });
  });
});

describe('MCPServerEntry', () => {
  it('converts the basic fields, type entry and the URL from spec', async () => {
    const backend = backendOf(await mcpServerEntryToBackend(serverEntry('remote'), context()));
    expect(backend).toEqual({
      id: 'remote',
      name: 'remote',
      baseUrl: 'https://remote.example.com/mcp',
      transportType: 'streamable-http',
      type: 'entry',
      healthStatus: 'healthy',
      metadata: {
        tool_type: 'mcp',
        workload_type: 'server_entry',
        workload_status: 'Valid',
        remote_url: 'https://remote.example.com/mcp',
        namespace: NS,
      },
    });
  });

  it('uses the SSE transport', async () => {
    const object = serverEntry('e', { spec: { transport: 'sse' } });
    expect(backendOf(await mcpServerEntryToBackend(object, context())).transportType).toBe('sse');
  });

  it.each(['Pending', 'Failed', '', 'Ready'])('is skipped in phase %j', async (phase) => {
    expect(
      await mcpServerEntryToBackend(serverEntry('e', { status: { phase } }), context()),
    ).toMatchObject({
      kind: 'skip',
      reason: 'entry-not-valid',
    });
  });

  it('is skipped with an empty or unparseable remote URL', async () => {
    expect(
      await mcpServerEntryToBackend(serverEntry('e', { spec: { remoteUrl: '' } }), context()),
    ).toMatchObject({
      reason: 'no-url',
    });
    expect(
      await mcpServerEntryToBackend(serverEntry('e', { spec: { remoteUrl: '::nope' } }), context()),
    ).toMatchObject({
      reason: 'invalid-url',
    });
  });

  it('reads the CA bundle from the default key ca.crt', async () => {
    const object = serverEntry('e', { spec: { caBundleRef: { configMapRef: { name: 'ca' } } } });
    const backend = backendOf(
      await mcpServerEntryToBackend(object, context(configMap('ca', { 'ca.crt': PEM }))),
    );
    expect(backend.caBundleData).toBe(PEM);
  });

  it('reads the CA bundle from an explicit key', async () => {
    const object = serverEntry('e', {
      spec: { caBundleRef: { configMapRef: { name: 'ca', key: 'bundle.pem' } } },
    });
    const backend = backendOf(
      await mcpServerEntryToBackend(object, context(configMap('ca', { 'bundle.pem': PEM }))),
    );
    expect(backend.caBundleData).toBe(PEM);
  });

  it('is skipped when the CA ConfigMap or its key is missing, or the ConfigMap name is empty', async () => {
    const ref = serverEntry('e', { spec: { caBundleRef: { configMapRef: { name: 'ca' } } } });
    expect(await mcpServerEntryToBackend(ref, context())).toMatchObject({
      reason: 'ca-bundle-unresolved',
    });
    expect(
      await mcpServerEntryToBackend(ref, context(configMap('ca', { other: PEM }))),
    ).toMatchObject({
      reason: 'ca-bundle-unresolved',
    });
    const noName = serverEntry('e', { spec: { caBundleRef: { configMapRef: { name: '' } } } });
    expect(
      await mcpServerEntryToBackend(noName, context(configMap('', { 'ca.crt': PEM }))),
    ).toMatchObject({ reason: 'ca-bundle-unresolved' });
  });

  it('is served without a CA when caBundleRef has no configMapRef, as upstream', async () => {
    const entry = serverEntry('e', { spec: { caBundleRef: {} } });
    const backend = backendOf(await mcpServerEntryToBackend(entry, context()));
    expect(backend).not.toHaveProperty('caBundleData');
    expect(backend.type).toBe('entry');
  });

  it('keeps the entry out for now when its CA ConfigMap cannot be read', async () => {
    const entry = serverEntry('e', { spec: { caBundleRef: { configMapRef: { name: 'ca' } } } });
    const reader = createObjectReader([configMap('ca', { 'ca.crt': PEM })]);
    reader.getConfigMap = async () => {
      throw Object.assign(new Error('Service Unavailable'), { code: 503 });
    };
    expect(await mcpServerEntryToBackend(entry, { reader })).toMatchObject({
      kind: 'unavailable',
      error: { message: `MCPServerEntry ${NS}/e: ConfigMap ${NS}/ca could not be read (503)` },
    });
    reader.getConfigMap = async () => {
      throw Object.assign(new Error('Unauthorized'), { code: 401, reason: 'Unauthorized' });
    };
    expect(await mcpServerEntryToBackend(entry, { reader })).toMatchObject({
      kind: 'unavailable',
      error: {
        message: `MCPServerEntry ${NS}/e: ConfigMap ${NS}/ca could not be read (401 Unauthorized)`,
      },
    });
    reader.getConfigMap = async () => {
      throw Object.assign(new Error('Bad Request'), { code: 400, reason: 'BadRequest' });
    };
    expect(await mcpServerEntryToBackend(entry, { reader })).toMatchObject({ kind: 'error' });
  });

  it('has no auth without a ref, and is skipped when its auth config is missing', async () => {
    expect(
      backendOf(await mcpServerEntryToBackend(serverEntry('e'), context())),
    ).not.toHaveProperty('authConfig');
    const object = serverEntry('e', { spec: { externalAuthConfigRef: { name: 'nope' } } });
    expect(await mcpServerEntryToBackend(object, context())).toMatchObject({
      reason: 'auth-unresolved',
    });
  });

  it('resolves token exchange auth', async () => {
    const object = serverEntry('e', { spec: { externalAuthConfigRef: { name: 'te' } } });
    expect(
      backendOf(await mcpServerEntryToBackend(object, context(...tokenExchange))).authConfigRef,
    ).toBe('te');
  });

  describe('header forwarding', () => {
    const forward = async (headerForward: unknown, name = 'my-entry') =>
      backendOf(
        await mcpServerEntryToBackend(serverEntry(name, { spec: { headerForward } }), context()),
      ).headerForward;

    it('is absent without headerForward or when nothing remains', async () => {
      expect(await forward(undefined)).toBeUndefined();
      expect(await forward({})).toBeUndefined();
      expect(await forward({ addHeadersFromSecret: [{ headerName: 'X-Key' }] })).toBeUndefined();
    });

    it('copies plaintext headers verbatim', async () => {
      expect(
        await forward({ addPlaintextHeaders: { 'X-Tenant': 'acme', 'x-lower': 'v' } }),
      ).toEqual({
        addPlaintextHeaders: { 'X-Tenant': 'acme', 'x-lower': 'v' },
      });
    });

    it('turns secret-backed headers into identifiers, never values', async () => {
      expect(
        await forward({
          addHeadersFromSecret: [
            { headerName: 'X-Api-Key', valueSecretRef: { name: 's', key: 'k' } },
          ],
        }),
      ).toEqual({ addHeadersFromSecret: { 'X-Api-Key': 'HEADER_FORWARD_X_API_KEY_MY_ENTRY' } });
    });

    it('keeps both kinds and skips refs without a Secret', async () => {
      expect(
        await forward({
          addPlaintextHeaders: { 'X-Tenant': 'acme' },
          addHeadersFromSecret: [
            { headerName: 'X-Key', valueSecretRef: { name: 's', key: 'k' } },
            { headerName: 'X-Skipped' },
          ],
        }),
      ).toEqual({
        addPlaintextHeaders: { 'X-Tenant': 'acme' },
        addHeadersFromSecret: { 'X-Key': 'HEADER_FORWARD_X_KEY_MY_ENTRY' },
      });
    });

    it('builds identifiers as upstream does', () => {
      expect(headerForwardIdentifier('x-api.key', 'entry-1')).toBe(
        'HEADER_FORWARD_X_API_KEY_ENTRY_1',
      );
      expect(headerForwardIdentifier('Authorization', 'ünï')).toBe(
        'HEADER_FORWARD_AUTHORIZATION__N_',
      );
      expect(headerForwardIdentifier('X-Straße', 'e')).toBe('HEADER_FORWARD_X_STRA_E_E');
    });
  });
});

describe('metadata.group', () => {
  it.each([
    ['MCPServer', mcpServer('w'), mcpServerToBackend],
    ['MCPRemoteProxy', remoteProxy('w'), mcpRemoteProxyToBackend],
    ['MCPServerEntry', serverEntry('w'), mcpServerEntryToBackend],
  ] as const)(
    'is the watched group on an %s, over an annotation named group, as upstream discovery sets it',
    async (_kind, object, convert) => {
      const annotated = {
        ...object,
        metadata: { ...object.metadata, annotations: { group: 'mine' } },
      };
      const backend = backendOf(await convert(annotated, { ...context(), group: GROUP }));
      expect(backend.metadata.group).toBe(GROUP);
    },
  );

  it('is absent when the conversion is for no group (an annotation of that name is kept)', async () => {
    const annotated = mcpServer('w', { annotations: { group: 'mine' } });
    expect(
      backendOf(await mcpServerToBackend(mcpServer('w'), context())).metadata,
    ).not.toHaveProperty('group');
    expect(backendOf(await mcpServerToBackend(annotated, context())).metadata.group).toBe('mine');
  });

  it('is set on every backend static discovery finds', async () => {
    const { backends } = await discover(
      createObjectReader([mcpServer('a'), remoteProxy('b'), serverEntry('c')]),
      NS,
      GROUP,
    );
    expect(backends.map((b) => b.metadata.group)).toEqual([GROUP, GROUP, GROUP]);
  });
});

describe('listing and discovery', () => {
  const objects = [
    mcpServer('a'),
    mcpServer('other', { spec: { groupRef: { name: 'sales' } } }),
    remoteProxy('b'),
    serverEntry('c'),
    serverEntry('pending', { status: { phase: 'Pending' } }),
    mcpServer('dup'),
    serverEntry('dup'),
    mcpServer('bad-group', { spec: { groupRef: { name: 7 } } }),
  ];

  it('lists the workloads of every kind in the group', async () => {
    expect(await listWorkloadsInGroup(createObjectReader(objects), NS, GROUP)).toEqual([
      { name: 'a', type: 'MCPServer' },
      { name: 'dup', type: 'MCPServer' },
      { name: 'b', type: 'MCPRemoteProxy' },
      { name: 'c', type: 'MCPServerEntry' },
      { name: 'pending', type: 'MCPServerEntry' },
      { name: 'dup', type: 'MCPServerEntry' },
    ]);
  });

  it('lists only one kind when only that kind is present', async () => {
    expect(await listWorkloadsInGroup(createObjectReader([remoteProxy('p')]), NS, GROUP)).toEqual([
      { name: 'p', type: 'MCPRemoteProxy' },
    ]);
  });

  it('discovers the backends with reasons for the rest and the shadowed names', async () => {
    const { backends, workloads } = await discover(createObjectReader(objects), NS, GROUP);
    expect(backends.map((b) => `${b.id}:${b.type ?? ''}`)).toEqual(['a:', 'b:', 'c:entry', 'dup:']);
    expect(workloads.find((w) => w.name === 'pending')?.outcome).toMatchObject({
      reason: 'entry-not-valid',
    });
    expect(workloads.find((w) => w.name === 'dup' && w.type === 'MCPServerEntry')).toEqual({
      name: 'dup',
      type: 'MCPServerEntry',
      shadowedBy: 'MCPServer',
    });
  });

  it('reports a missing workload as an error, as upstream', async () => {
    const outcome = await getWorkloadAsBackend({ name: 'ghost', type: 'MCPServer' }, NS, context());
    expect(outcome.kind).toBe('error');
    if (outcome.kind === 'error') {
      expect(outcome.error).toBeInstanceOf(WorkloadNotFoundError);
      expect(outcome.error.message).toBe('MCPServer ghost not found');
    }
  });

  it('reports a reader failure as unavailable when transient, as an error when definitive', async () => {
    const reader = createObjectReader([]);
    reader.getWorkload = async () => {
      throw Object.assign(new Error('The operation was aborted due to timeout'), {
        name: 'TimeoutError',
      });
    };
    expect(
      await getWorkloadAsBackend({ name: 'x', type: 'MCPServerEntry' }, NS, { reader }),
    ).toMatchObject({
      kind: 'unavailable',
      error: { message: `MCPServerEntry ${NS}/x could not be read (timed out)` },
    });
    reader.getWorkload = async () => {
      throw Object.assign(new Error('invalid'), { code: 422 });
    };
    expect(
      await getWorkloadAsBackend({ name: 'x', type: 'MCPServerEntry' }, NS, { reader }),
    ).toMatchObject({ kind: 'error' });
  });
});

describe('API versions', () => {
  const toV1alpha1 = (object: KubeObjectLike): KubeObjectLike => ({
    ...object,
    apiVersion: 'toolhive.stacklok.dev/v1alpha1',
  });
  const entryWithCa = serverEntry('e', {
    spec: { caBundleRef: { configMapRef: { name: 'ca' } } },
  });

  it.each([
    ['MCPServer', mcpServer('s'), mcpServerToBackend],
    ['MCPRemoteProxy', remoteProxy('p'), mcpRemoteProxyToBackend],
    ['MCPServerEntry', entryWithCa, mcpServerEntryToBackend],
  ] as const)(
    'converts a v1alpha1 %s exactly as its v1beta1 form',
    async (_kind, object, convert) => {
      const ctx = context(configMap('ca', { 'ca.crt': PEM }));
      const beta = backendOf(await convert(object, ctx));
      const alpha = backendOf(await convert(toV1alpha1(object), ctx));
      expect(alpha).toEqual(beta);
    },
  );
});

describe('MCPServerEntry health', () => {
  it.each([
    ['Valid', 'healthy'],
    ['Failed', 'unhealthy'],
    ['Pending', 'unknown'],
    ['', 'unknown'],
    ['Ready', 'unknown'],
  ])('maps phase %j to %s', (phase, expected) => {
    expect(mcpServerEntryHealth(phase)).toBe(expected);
  });
});
