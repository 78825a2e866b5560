import { spawn } from 'node:child_process';
import { startEnv } from '@vmcp/envtest';
import { startFakeApiServer } from '@vmcp/fake-apiserver';
import { toolhiveCrdPaths } from '@vmcp/toolhive-crds';

const runs = Number(process.argv[2] ?? 3);
const ms = (t: number) => Math.round(performance.now() - t);
async function sidecarReady(kubeconfig: string): Promise<{ serving: number; ready: number }> {
  const t = performance.now();
  const child = spawn(
    process.execPath,
    [
      'dist/cli.js',
      '--group',
      'engineering',
      '--namespace',
      'default',
      '--kubeconfig',
      kubeconfig,
      '--listen',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve) =>
    child.stdout.on('data', (c) => {
      out += c;
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    }),
  );
  const serving = ms(t);
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  const ready = ms(t);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { serving, ready };
}
for (let i = 0; i < runs; i++) {
  let t = performance.now();
  const fake = await startFakeApiServer({ crds: toolhiveCrdPaths });
  const fakeStart = ms(t);
  const fakeSidecar = await sidecarReady(fake.kubeconfigPath);
  await fake.close();
  t = performance.now();
  const env = await startEnv({ watchCache: i % 2 === 0 });
  const start = ms(t);
  const sidecar = await sidecarReady(env.kubeconfigPath);
  t = performance.now();
  await env.restart();
  const restart = ms(t);
  t = performance.now();
  await env.stop();
  const stop = ms(t);
  console.log(
    JSON.stringify({
      fakeStart,
      fakeSidecar,
      start,
      sidecar,
      restart,
      stop,
      load: (await import('node:os')).loadavg()[0]!.toFixed(1),
    }),
  );
}
