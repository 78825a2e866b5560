import { ownValue, setOwn } from './own.js';
import { ApiFailure } from './status.js';

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else setOwn(result, key, mergePatch(ownValue(result, key), value));
  }
  return result;
}

type Operation = { op: string; path: string; value?: unknown; from?: string };

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test. */
export function jsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations))
    throw ApiFailure.badRequest('json patch must be an array of operations');
  let doc = clone(document);
  for (const raw of operations as Operation[]) {
    if (
      typeof raw !== 'object' ||
      raw === null ||
      typeof raw.op !== 'string' ||
      typeof raw.path !== 'string'
    ) {
      throw ApiFailure.badRequest('json patch operation needs "op" and "path"');
    }
    switch (raw.op) {
      case 'add':
        doc = put(doc, pointer(raw.path), clone(raw.value), 'add');
        break;
      case 'replace':
        get(doc, pointer(raw.path));
        doc = put(doc, pointer(raw.path), clone(raw.value), 'replace');
        break;
      case 'remove':
        doc = remove(doc, pointer(raw.path));
        break;
      case 'move': {
        const from = pointer(raw.from ?? '');
        const value = get(doc, from);
        doc = put(remove(doc, from), pointer(raw.path), value, 'add');
        break;
      }
      case 'copy':
        doc = put(doc, pointer(raw.path), clone(get(doc, pointer(raw.from ?? ''))), 'add');
        break;
      case 'test':
        if (JSON.stringify(get(doc, pointer(raw.path))) !== JSON.stringify(raw.value)) {
          throw new ApiFailure(422, 'Invalid', `the test operation on ${raw.path} failed`);
        }
        break;
      default:
        throw ApiFailure.badRequest(`unknown json patch operation "${raw.op}"`);
    }
  }
  return doc;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw ApiFailure.badRequest(`invalid json pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(doc: unknown, path: string[]): unknown {
  let current = doc;
  for (const segment of path) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (current !== null && typeof current === 'object') {
      current = ownValue(current as Record<string, unknown>, segment);
    } else current = undefined;
    if (current === undefined) {
      throw new ApiFailure(422, 'Invalid', `json patch: path /${path.join('/')} does not exist`);
    }
  }
  return current;
}

function put(doc: unknown, path: string[], value: unknown, op: 'add' | 'replace'): unknown {
  if (path.length === 0) return value;
  const parent = get(doc, path.slice(0, -1));
  const last = path.at(-1) as string;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) {
      throw new ApiFailure(422, 'Invalid', `json patch: index ${last} out of range`);
    }
    if (op === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (parent !== null && typeof parent === 'object') {
    setOwn(parent as Record<string, unknown>, last, value);
  } else {
    throw new ApiFailure(
      422,
      'Invalid',
      `json patch: cannot add to /${path.slice(0, -1).join('/')}`,
    );
  }
  return doc;
}

function remove(doc: unknown, path: string[]): unknown {
  const parent = get(doc, path.slice(0, -1));
  const last = path.at(-1) as string;
  get(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, unknown>)[last];
  return doc;
}

export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
