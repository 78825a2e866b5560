/**
 * What the running sidecar loads: its YAML parser only with `--config`, and of prom-client only
 * the collector classes (not its cluster aggregator, push gateway, default metrics or
 * OpenTelemetry). Each is a few MB and tens of milliseconds of a start that never uses them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeApiServer, startFakeApiServer } from '@vmcp/fake-apiserver';
import { eventually } from '@vmcp/test-support';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, SIDECAR_READY_TIMEOUT_MS } from './support/process.js';

const dir = mkdtempSync(join(tmpdir(), 'vmcp-lazy-modules-'));
// Preloaded into the sidecar: at exit, the CommonJS files it loaded (ES imports of CommonJS
// packages are among them), one per line.
const probe = join(dir, 'probe.cjs');
writeFileSync(
  probe,
  "process.on('exit', () => require('node:fs').writeFileSync(process.env.VMCP_PROBE_OUT, Object.keys(require.cache).join('\\n')));\n",
);

let fake: FakeApiServer;
beforeAll(async () => {
  fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
});
afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the sidecar until it is ready and has been scraped, stops it; the files it loaded. */
async function loadedBy(name: string, extraArgs: string[] = []): Promise<string[]> {
  const out = join(dir, `${name}.txt`);
  const cli = new CliProcess(
    [
      ...['--group', 'engineering', '--namespace', 'default'],
      ...['--kubeconfig', fake.kubeconfigPath, '--listen', '127.0.0.1:0', ...extraArgs],
    ],
    { NODE_OPTIONS: `--require ${probe}`, VMCP_PROBE_OUT: out },
  );
  try {
    const url = (await cli.waitForLog('serving', SIDECAR_READY_TIMEOUT_MS)).url as string;
    await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, {
      what: 'the sidecar ready',
      timeoutMs: SIDECAR_READY_TIMEOUT_MS,
    });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('vmcp_http_requests_total');
    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  } finally {
    cli.kill();
  }
  return readFileSync(out, 'utf8').split('\n');
}

const packageOf = (file: string) => /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];

describe('the modules the sidecar loads', () => {
  it('leaves out the YAML parser without --config, and all of prom-client but its collectors', async () => {
    const files = await loadedBy('plain');
    const packages = new Set(files.map(packageOf));
    expect(packages.has('yaml')).toBe(false);
    expect(packages.has('@opentelemetry/api')).toBe(false);
    expect(
      files
        .filter((file) => packageOf(file) === 'prom-client')
        .map((file) => file.replace(/.*\/prom-client\//, ''))
        .sort(),
    ).toEqual([
      'lib/counter.js',
      'lib/exemplar.js',
      'lib/gauge.js',
      'lib/histogram.js',
      'lib/metric.js',
      'lib/registry.js',
      'lib/util.js',
      'lib/validation.js',
    ]);
  });

  it('loads the YAML parser to read a --config file', async () => {
    const config = join(dir, 'vmcp.yaml');
    writeFileSync(config, 'groupRef: engineering\n');
    const packages = new Set((await loadedBy('config', ['--config', config])).map(packageOf));
    expect(packages.has('yaml')).toBe(true);
  });
});
