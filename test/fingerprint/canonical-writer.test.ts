// canonicalJson is written in one pass since issue 15 (a sorted copy first cost a 1,000-state
// no-op run about 15 ms); cache keys are digests of its text, so it must give the very text of the
// two-pass form for any value, or every cache entry would miss after the upgrade.
import { describe, expect, it } from 'vitest';
import { canonicalJson, sortKeys } from '../../dag/project/canonical.js';

const reference = (v: unknown) => JSON.stringify(sortKeys(v));

/** A random JSON-ish value from a seeded generator (deterministic, so a failure reproduces). */
function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth <= 0 || r < 0.35) {
    const p = next();
    if (p < 0.15) return null;
    if (p < 0.25) return next() < 0.5;
    if (p < 0.45) return Math.floor(next() * 2000) - 1000;
    if (p < 0.55) return [0.1, -0, 1e21, 1.5e-7, Number.NaN, Number.POSITIVE_INFINITY][Math.floor(next() * 6)];
    if (p < 0.6) return undefined;
    if (p < 0.65) return new Date(Math.floor(next() * 2e12));
    return ['', 'a', 'é', '"q"', 'line\nbreak', '\u2028', 'z'.repeat(5), '\\'][Math.floor(next() * 8)];
  }
  if (r < 0.65) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) o[['b', 'a', '10', '2', 'é', 'A', '_', 'key with space', '01', '4294967295', '4294967294', '-1'][Math.floor(next() * 12)]!] = randomValue(next, depth - 1);
  return o;
}

describe('canonicalJson (one pass)', () => {
  it('gives the text of the two-pass form on 5,000 random values', () => {
    let s = 42;
    const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const v = randomValue(next, 5);
      expect(canonicalJson(v), JSON.stringify(v)).toBe(reference(v));
    }
  });

  it('treats the odd cases as JSON.stringify does: undefined and functions dropped from objects, null in arrays, Dates as ISO strings', () => {
    const cases: unknown[] = [undefined, () => 1, { a: undefined, b: () => 1, c: Symbol('x') }, [undefined, () => 1], new Date(0), { d: new Date(1) }, new Map([[1, 2]]), { z: 1, a: { y: [3, { c: 1, b: 2 }] } }];
    for (const v of cases) expect(canonicalJson(v)).toBe(reference(v));
    expect(canonicalJson({ b: 1, a: [2, undefined] })).toBe('{"a":[2,null],"b":1}');
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });
});
