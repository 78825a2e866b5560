/**
 * The client-go anchor of the watch benchmark: client-go's dynamic shared informer, built once
 * from `client-go/main.go` by `client-go/build.sh` (Debian's kubernetes 1.20 source, about a
 * minute once `pnpm envtest:setup` has configured the deb-src) and cached beside the envtest
 * binaries, keyed by the hash of both files:
 * `${VMCP_ENVTEST_CACHE:-~/.cache/vmcp-envtest}/client-go-anchor/<hash>/client-go-informer`.
 * `VMCP_BENCH_CLIENT_GO=off` skips it; `VMCP_BENCH_CLIENT_GO=/path` uses that binary.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./client-go/main.go', import.meta.url));
const build = fileURLToPath(new URL('./client-go/build.sh', import.meta.url));

/** The anchor's binary, or why there is none. */
export type ClientGoAnchor = { path: string } | { unavailable: string };

/** The cached anchor, built first when missing. Never throws: a failure is a reason. */
export async function clientGoAnchor(): Promise<ClientGoAnchor> {
  const setting = process.env.VMCP_BENCH_CLIENT_GO;
  if (setting === 'off') return { unavailable: 'VMCP_BENCH_CLIENT_GO=off' };
  if (setting) {
    return existsSync(setting)
      ? { path: setting }
      : { unavailable: `VMCP_BENCH_CLIENT_GO=${setting} does not exist` };
  }
  const hash = createHash('sha256')
    .update(readFileSync(main))
    .update(readFileSync(build))
    .digest('hex')
    .slice(0, 16);
  const root = process.env.VMCP_ENVTEST_CACHE ?? join(homedir(), '.cache', 'vmcp-envtest');
  const dir = join(root, 'client-go-anchor', hash);
  const binary = join(dir, 'client-go-informer');
  if (existsSync(binary)) return { path: binary };
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'build.log');
  console.log(`building the client-go anchor into ${dir} (about a minute; log: ${log})`);
  const started = performance.now();
  const building = `${binary}.building`;
  const fd = openSync(log, 'w');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('bash', [build, building], { stdio: ['ignore', fd, fd] });
    child.once('error', () => resolve(-1));
    child.once('exit', resolve);
  });
  closeSync(fd);
  if (code !== 0 || !existsSync(building)) {
    const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
    return { unavailable: `the build failed (exit ${code}; ${log}: ${tail})` };
  }
  renameSync(building, binary);
  console.log(
    `built the client-go anchor in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  return { path: binary };
}
