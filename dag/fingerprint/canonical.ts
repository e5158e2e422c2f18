import { createHash } from 'node:crypto';

/** A sha256 digest in lowercase hex. Branded so a file digest cannot stand in for a key. */
export type Sha256Hex = string & { readonly __brand: 'sha256' };

export function sha256Hex(data: string | Uint8Array): Sha256Hex {
  return createHash('sha256').update(data).digest('hex') as Sha256Hex;
}

/** JSON with object keys sorted at every level: equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
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
