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
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    let match: RegExpExecArray | null;
    const labels = (o: KubeObject): Record<string, string> => o.metadata?.labels ?? {};
    if ((match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key = '', op, list = ''] = match;
      const values = list
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      requirements.push(
        op === 'in'
          ? (o) => key in labels(o) && values.includes(labels(o)[key] ?? '')
          : (o) => !(key in labels(o)) || !values.includes(labels(o)[key] ?? ''),
      );
    } else if ((match = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term))) {
      const [, key = '', op, value = ''] = match;
      requirements.push(
        op === '!='
          ? (o) => labels(o)[key] !== value
          : (o) => key in labels(o) && labels(o)[key] === value,
      );
    } else if ((match = /^!([\w./-]+)$/.exec(term))) {
      const key = match[1] ?? '';
      requirements.push((o) => !(key in labels(o)));
    } else if ((match = /^([\w./-]+)$/.exec(term))) {
      const key = match[1] ?? '';
      requirements.push((o) => key in labels(o));
    } else {
      throw ApiFailure.badRequest(`unable to parse requirement: invalid label selector "${text}"`);
    }
  }
  return (o) => requirements.every((r) => r(o));
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
