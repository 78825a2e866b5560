/**
 * A copy of a CRD (or any part of one) that kube-apiserver 1.20 accepts: without
 * `x-kubernetes-validations` (CEL rules, unknown to 1.20) and without empty-string `default`s,
 * which 1.20 rejects. Everything else is kept as it is; the argument is not changed.
 *
 * @example
 * const crd = downgradeCrd(parse(readFileSync(toolhiveCrdPaths[0], 'utf8')));
 */
export function downgradeCrd<T>(value: T): T {
  if (Array.isArray(value)) return value.map(downgradeCrd) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === 'x-kubernetes-validations') continue;
    if (key === 'default' && field === '') continue;
    out[key] = downgradeCrd(field);
  }
  return out as T;
}
