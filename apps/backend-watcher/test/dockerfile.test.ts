import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No Docker engine runs here, so the image is not built in tests; this checks what can be
// checked without one.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dockerfile = readFileSync(new URL('../deploy/Dockerfile', import.meta.url), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => /^[A-Z]+\s/.test(line));

describe('deploy/Dockerfile', () => {
  it('builds on and runs from Node 24 slim, in two stages', () => {
    const bases = instructions.filter((line) => line.startsWith('FROM '));
    expect(bases).toEqual(['FROM node:24-slim AS build', 'FROM node:24-slim']);
  });

  it('ships production dependencies only', () => {
    expect(dockerfile).toMatch(/deploy --prod/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtime).not.toMatch(/pnpm|npm install|npx/);
  });

  it('runs as a non-root user', () => {
    const users = instructions.filter((line) => line.startsWith('USER '));
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(dockerfile.lastIndexOf('USER ')).toBeGreaterThan(dockerfile.lastIndexOf('COPY '));
  });

  it('copies only paths that exist in the repository', () => {
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(`${ROOT}${source}`), source).toBe(true);
  });

  it('sets the V8 settings the README sizes the sidecar with, as the Deployment does', () => {
    const image = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1];
    expect(image).toBe('--max-semi-space-size=1');
    const deployment = readFileSync(
      new URL('../deploy/kubernetes/deployment.yaml', import.meta.url),
      'utf8',
    );
    expect(deployment).toMatch(new RegExp(`- name: NODE_OPTIONS\\n\\s+value: ${image}\\n`));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`NODE_OPTIONS=${image}`);
  });

  it('starts the built CLI', () => {
    expect(instructions.at(-1)).toBe('ENTRYPOINT ["node", "/app/dist/cli.js"]');
  });
});
