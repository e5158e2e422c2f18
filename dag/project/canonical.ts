import { hash } from 'node:crypto';

/** A sha256 digest in lowercase hex. Branded so a file digest cannot stand in for a key. */
export type Sha256Hex = string & { readonly __brand: 'sha256' };

/** sha256 of a string's UTF-8 bytes (or of the bytes), in hex: one call, no Hash object (node >= 20.12). */
export function sha256Hex(data: string | Uint8Array): Sha256Hex {
  return hash('sha256', data, 'hex') as Sha256Hex;
}

/**
 * JSON with object keys sorted at every level: equal data gives equal text. Written out in one
 * pass (no sorted copy of the value first): the same text as `JSON.stringify(sortKeys(value))`,
 * which test/fingerprint/canonical-writer.test.ts checks, since cache keys are digests of it.
 */
export function canonicalJson(value: unknown): string {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol' ? (undefined as unknown as string) : write(value);
}

function write(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (i > 0) out += ',';
      out += v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : write(v);
    }
    return out + ']';
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const keys = orderedKeys(value as object);
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + write(v);
    first = false;
  }
  return out + '}';
}

/**
 * Keys in the order the two-pass form wrote them: sorted, but an object lists its array-index keys
 * ('2', '10') first in numeric order whatever the insertion order, so those come first.
 */
function orderedKeys(value: object): string[] {
  const keys = Object.keys(value);
  // Object.keys already lists index keys first, ascending: only the rest needs sorting
  let i = 0;
  while (i < keys.length && isIndex(keys[i]!)) i++;
  if (i === 0) return keys.sort();
  return i === keys.length ? keys : [...keys.slice(0, i), ...keys.slice(i).sort()];
}

function isIndex(k: string): boolean {
  if (k.length === 0 || k.length > 10) return false;
  const n = Number(k);
  return Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === k;
}

/** The former two-pass form, kept as the reference the one-pass writer is tested against. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
