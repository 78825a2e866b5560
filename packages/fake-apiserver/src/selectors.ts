import { ownValue } from './own.js';
import { ApiFailure } from './status.js';
import type { KubeObject } from './types.js';

/** A compiled selector: true when the object matches. */
export type Selector = (object: KubeObject) => boolean;

const everything: Selector = () => true;

/**
 * Label selectors as the API server parses them: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
 * `k in (a,b)`, `k notin (a,b)`, joined by commas.
 */
export function parseLabelSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') return everything;
  const requirements: Selector[] = [];
  const labels = (o: KubeObject): Record<string, string> => o.metadata?.labels ?? {};
  for (const part of splitTopLevel(text)) {
    requirements.push(labelRequirement(part.trim(), labels, text));
  }
  return (o) => requirements.every((r) => r(o));
}

function labelRequirement(
  term: string,
  labels: (o: KubeObject) => Record<string, string>,
  text: string,
): Selector {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    return op === 'in'
      ? (o) => values.includes(ownValue(labels(o), key) ?? '\0')
      : (o) => !values.includes(ownValue(labels(o), key) ?? '\0');
  }
  const equality = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
  if (equality) {
    const [, key = '', op, value = ''] = equality;
    return op === '!='
      ? (o) => ownValue(labels(o), key) !== value
      : (o) => ownValue(labels(o), key) === value;
  }
  const absent = /^!([\w./-]+)$/.exec(term);
  if (absent) {
    const key = absent[1] ?? '';
    return (o) => !Object.hasOwn(labels(o), key);
  }
  const present = /^([\w./-]+)$/.exec(term);
  if (present) {
    const key = present[1] ?? '';
    return (o) => Object.hasOwn(labels(o), key);
  }
  throw ApiFailure.badRequest(`unable to parse requirement: invalid label selector "${text}"`);
}

/** Field selectors: `metadata.name` and `metadata.namespace` with `=`, `==`, `!=`. */
export function parseFieldSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') return everything;
  const requirements: Selector[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*([\w.]+)\s*(==|=|!=)\s*([^,]*?)\s*$/.exec(part);
    const [, field, op, value = ''] = match ?? [];
    if (!match || (field !== 'metadata.name' && field !== 'metadata.namespace')) {
      throw ApiFailure.badRequest(
        `field label not supported: ${field ?? part.trim()} (only metadata.name and metadata.namespace)`,
      );
    }
    const read = (o: KubeObject) =>
      (field === 'metadata.name' ? o.metadata?.name : o.metadata?.namespace) ?? '';
    requirements.push(op === '!=' ? (o) => read(o) !== value : (o) => read(o) === value);
  }
  return (o) => requirements.every((r) => r(o));
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}
