import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinImportsOf, leanBuiltinModule } from '../src/builtin-imports.js';

describe('builtinImportsOf', () => {
  it.each([
    ["import http from 'node:http';", { default: true, names: [] }],
    ['import { createServer } from "http";', { default: false, names: ['createServer'] }],
    [
      "import http, { request as get, Agent } from 'node:http';\nimport { Agent } from 'http';",
      { default: true, names: ['request', 'Agent'] },
    ],
    [
      "import { type Server, createServer } from 'node:http';",
      { default: false, names: ['createServer'] },
    ],
    ["import { default as http } from 'node:http';", { default: true, names: [] }],
    [
      "import { createServer } from 'node:http';\nlogger.child({ component: 'http' });",
      { default: false, names: ['createServer'] },
    ],
  ])('reads %j', (source, expected) => {
    expect(builtinImportsOf(source, 'http')).toEqual(expected);
  });

  it.each([
    ["import * as http from 'node:http';"],
    ["export { createServer } from 'node:http';"],
    ["import { createServer } from 'node:http'; const h = await import('node:http');"],
    ["import 'node:http';"],
    ['const x = 1;'],
  ])('gives up on %j (the real module is imported then)', (source) => {
    expect(builtinImportsOf(source, 'http')).toBeUndefined();
  });

  it('does not confuse a built-in with another one that starts with its name', () => {
    expect(builtinImportsOf("import { connect } from 'node:http2';", 'http')).toBeUndefined();
  });
});

describe('leanBuiltinModule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcp-lean-builtins-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the importer require's own objects without building node:http's facade", async () => {
    const module = leanBuiltinModule('http', { default: true, names: ['createServer'] });
    const script = join(dir, 'probe.mjs');
    writeFileSync(
      script,
      [
        `const lean = await import(${JSON.stringify(module)});`,
        "const http = process.getBuiltinModule('node:http');",
        'const same = lean.default === http && lean.createServer === http.createServer;',
        "const undici = process.moduleLoadList.some((m) => m.includes('undici'));",
        'console.log(JSON.stringify({ same, undici }));',
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)(process.execPath, [
      pathToFileURL(script).pathname,
    ]);
    expect(JSON.parse(stdout)).toEqual({ same: true, undici: false });
  });
});
