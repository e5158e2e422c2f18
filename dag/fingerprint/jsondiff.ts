import { toPointer } from '../project/yamlsource.js';

/** JSON pointers of the values that differ between two JSON documents (leaves, in document order). */
export function changedPointers(a: unknown, b: unknown, limit = 5): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: (string | number)[]) => {
    if (out.length >= limit) return;
    const bothObjects = x !== null && y !== null && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y);
    if (!bothObjects) {
      if (JSON.stringify(x) !== JSON.stringify(y)) out.push(toPointer(path) || '/');
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], [...path, i]);
      return;
    }
    const xo = x as Record<string, unknown>;
    const yo = y as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(xo), ...Object.keys(yo)])];
    for (const k of keys) walk(xo[k], yo[k], [...path, k]);
  };
  walk(a, b, []);
  return out;
}

/** The value at a JSON pointer (RFC 6901) of a parsed document; undefined when absent. */
export function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}
