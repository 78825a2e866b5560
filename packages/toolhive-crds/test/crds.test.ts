import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { downgradeCrd, toolhiveCrdDirectory, toolhiveCrdPaths } from '../src/index.js';

interface Crd {
  apiVersion: string;
  kind: string;
  spec: { group: string; names: { kind: string } };
}

const read = (path: string) => parse(readFileSync(path, 'utf8')) as Crd;

describe('toolhiveCrdPaths', () => {
  it('names the five ToolHive CRD manifests, sorted, inside toolhiveCrdDirectory', () => {
    expect(toolhiveCrdPaths.map((path) => basename(path))).toEqual([
      'toolhive.stacklok.dev_mcpexternalauthconfigs.yaml',
      'toolhive.stacklok.dev_mcpgroups.yaml',
      'toolhive.stacklok.dev_mcpremoteproxies.yaml',
      'toolhive.stacklok.dev_mcpserverentries.yaml',
      'toolhive.stacklok.dev_mcpservers.yaml',
    ]);
    for (const path of toolhiveCrdPaths) expect(path.startsWith(toolhiveCrdDirectory)).toBe(true);
    expect(Object.isFrozen(toolhiveCrdPaths)).toBe(true);
  });

  it('each file is a CustomResourceDefinition of group toolhive.stacklok.dev', () => {
    const kinds = toolhiveCrdPaths.map((path) => {
      const crd = read(path);
      expect(crd).toMatchObject({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        spec: { group: 'toolhive.stacklok.dev' },
      });
      return crd.spec.names.kind;
    });
    expect(kinds).toEqual([
      'MCPExternalAuthConfig',
      'MCPGroup',
      'MCPRemoteProxy',
      'MCPServerEntry',
      'MCPServer',
    ]);
  });

  it('ships the upstream licence notice beside the manifests', () => {
    const notice = `${toolhiveCrdDirectory}NOTICE`;
    expect(existsSync(notice)).toBe(true);
    expect(readFileSync(notice, 'utf8')).toMatch(/Stacklok.*\n?.*Apache License, Version 2\.0/s);
  });
});

describe('downgradeCrd', () => {
  it('drops CEL validations and empty-string defaults only', () => {
    expect(
      downgradeCrd({
        a: { 'x-kubernetes-validations': [{ rule: 'x' }], type: 'object', default: '' },
        b: { default: 'keep' },
        c: [{ default: '' }],
      }),
    ).toEqual({ a: { type: 'object' }, b: { default: 'keep' }, c: [{}] });
  });

  it('leaves its argument unchanged', () => {
    const crd = { a: { 'x-kubernetes-validations': [], default: '' } };
    const copy = structuredClone(crd);
    downgradeCrd(crd);
    expect(crd).toEqual(copy);
  });

  it('removes every CEL rule and empty default of the shipped manifests, and nothing else', () => {
    for (const path of toolhiveCrdPaths) {
      const text = JSON.stringify(downgradeCrd(read(path)));
      expect(text).not.toContain('x-kubernetes-validations');
      expect(text).not.toContain('"default":""');
      expect(text).toContain('"openAPIV3Schema"');
    }
  });
});
