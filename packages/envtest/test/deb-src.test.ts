import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandError, runCommand } from '@vmcp/test-support';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/deb-src.sh', import.meta.url));
const KEY = '/usr/share/keyrings/debian-archive-keyring.gpg';
let aptDir: string;

/** An apt folder holding these files (paths relative to it), and deb-src.sh's answer for it. */
async function debSrc(files: Record<string, string>): Promise<string> {
  aptDir = mkdtempSync(join(tmpdir(), 'vmcp-apt-'));
  mkdirSync(join(aptDir, 'sources.list.d'));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(aptDir, path), text);
  return (await runCommand('bash', [SCRIPT, aptDir])).stdout;
}

afterEach(() => {
  if (aptDir) rmSync(aptDir, { recursive: true, force: true });
});

const stanza = (uri: string, suite: string, key?: string) =>
  `Types: deb-src\nURIs: ${uri}\nSuites: ${suite}\nComponents: main\n${key ? `Signed-By: ${key}\n` : ''}`;

describe('deb-src.sh: the deb-src source envtest:setup adds, from the machine own apt sources', () => {
  it("takes a deb822 file's mirror, release suite and key (this machine's layout)", async () => {
    const sources = [
      `Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: ${KEY}\n`,
      `Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: ${KEY}\n`,
    ].join('\n');
    expect(await debSrc({ 'sources.list.d/debian.sources': sources })).toBe(
      stanza('http://mirror.example/debian', 'bookworm', KEY),
    );
  });

  it('skips security, updates, disabled and deb-src-only stanzas, and stanzas without main', async () => {
    const sources = [
      'Types: deb\nURIs: http://security.example/debian-security\nSuites: trixie-security\nComponents: main\n',
      'Types: deb\nURIs: http://updates.example/debian\nSuites: trixie-updates\nComponents: main\n',
      'Types: deb\nURIs: http://off.example/debian\nSuites: trixie\nComponents: main\nEnabled: no\n',
      'Types: deb-src\nURIs: http://src.example/debian\nSuites: trixie\nComponents: main\n',
      'Types: deb\nURIs: http://contrib.example/debian\nSuites: trixie\nComponents: contrib\n',
      'Types: deb\nURIs: http://one.example/debian http://two.example/debian\nSuites: trixie\nComponents: main contrib\n',
    ].join('\n');
    expect(await debSrc({ 'sources.list.d/debian.sources': sources })).toBe(
      stanza('http://one.example/debian', 'trixie'),
    );
  });

  it('reads the one-line format, with a signed-by option, after comments', async () => {
    const list = [
      '# deb http://commented.example/debian bookworm main',
      'deb http://security.example/debian-security bookworm-security main',
      `deb [arch=amd64 signed-by=${KEY}] http://classic.example/debian bookworm main contrib`,
    ].join('\n');
    expect(await debSrc({ 'sources.list': `${list}\n` })).toBe(
      stanza('http://classic.example/debian', 'bookworm', KEY),
    );
  });

  it('looks in sources.list.d/*.list too, and does not mix a stanza across files', async () => {
    expect(
      await debSrc({
        'sources.list.d/a.sources': 'Types: deb\nURIs: http://a.example/debian\n',
        'sources.list.d/b.sources': 'Suites: bookworm\nComponents: main\n',
        'sources.list.d/c.list': 'deb http://c.example/debian bookworm main\n',
      }),
    ).toBe(stanza('http://c.example/debian', 'bookworm'));
  });

  it('fails with where it looked, and assumes no host, when the machine names no mirror', async () => {
    const failure = await debSrc({
      'sources.list': '# deb http://deb.debian.org/debian bookworm main\n',
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandError);
    expect((failure as CommandError).stdout).toBe('');
    expect((failure as CommandError).stderr).toContain(`no "deb" source`);
    expect((failure as CommandError).stderr).toContain(join(aptDir, 'sources.list.d'));
  });
});
