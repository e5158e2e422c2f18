/**
 * TypeScript reference of the PRF prelude (states/_lib/prf.sql), operation for operation, so that
 * golden vectors can pin the SQL macros bit for bit. BigInt for the 64-bit integer parts.
 */
import { createHash } from 'node:crypto';

const MASK = (1n << 64n) - 1n;
const GAMMA = 11400714819323198485n;
const M1 = 13787848793156543929n;
const M2 = 10723151780598845931n;

export const mul64 = (a: bigint, b: bigint): bigint => (a * b) & MASK;
export const add64 = (a: bigint, b: bigint): bigint => (a + b) & MASK;

export function splitmix64(x: bigint): bigint {
  let z = add64(x, GAMMA);
  z = mul64(z ^ (z >> 30n), M1);
  z = mul64(z ^ (z >> 27n), M2);
  return z ^ (z >> 31n);
}

export const mix64 = (k: bigint, a: bigint): bigint => splitmix64(k ^ splitmix64(a));
export const prf2 = (k: bigint, a: bigint, b: bigint): bigint => mix64(mix64(k, a), b);
export const prf3 = (k: bigint, a: bigint, b: bigint, c: bigint): bigint => mix64(mix64(mix64(k, a), b), c);
/** The j-th counter draw of key k: the key itself for j < 1024, a chunk key per 1024 counters above, then one mix (prf.sql's draw_at). */
export const drawAt = (k: bigint, j: bigint): bigint => mix64(j < 1024n ? k : mix64(k, j >> 10n), j & 1023n);

/** DuckDB's md5_number_lower: bytes 8..15 of the MD5 digest, little-endian. */
export function keyOf(s: string): bigint {
  return createHash('md5').update(s, 'utf8').digest().readBigUInt64LE(8);
}

// Portable transcendental functions, operation for operation as in prf.sql.
const LN2HI = 6.93147180369123816490e-01;
const LN2LO = 1.90821492927058770002e-10;

export function pexp(a: number): number {
  const k = Math.floor(a * 1.4426950408889634e0 + 0.5e0);
  const r = (a - k * LN2HI) - k * LN2LO;
  return (1e0 + r * ((1e0 / 1e0) + r * ((1e0 / 2e0) + r * ((1e0 / 6e0) + r * ((1e0 / 24e0) + r * ((1e0 / 120e0) + r * ((1e0 / 720e0) + r * ((1e0 / 5040e0) + r * ((1e0 / 40320e0) + r * ((1e0 / 362880e0) + r * ((1e0 / 3628800e0) + r * ((1e0 / 39916800e0) + r * ((1e0 / 479001600e0) + r * ((1e0 / 6227020800e0))))))))))))))) * pow2(k);
}

/** 2^k for an integer k, exactly (as pow(2, k) is in any IEEE libm). */
function pow2(k: number): number {
  return Math.pow(2, k);
}

function plnEm(x: number): { e: number; m: number } {
  const g = Math.floor(Math.log2(x));
  const e = x / pow2(g) >= 2e0 ? g + 1e0 : x / pow2(g) < 1e0 ? g - 1e0 : g;
  return x / pow2(e) > 1.4142135623730951e0 ? { e: e + 1e0, m: x / pow2(e + 1e0) } : { e, m: x / pow2(e) };
}

export function pln(x: number): number {
  const em = plnEm(x);
  const s = (em.m - 1e0) / (em.m + 1e0);
  const z = s * s;
  return em.e * LN2HI + (2e0 * s * ((1e0 / 1e0) + z * ((1e0 / 3e0) + z * ((1e0 / 5e0) + z * ((1e0 / 7e0) + z * ((1e0 / 9e0) + z * ((1e0 / 11e0) + z * ((1e0 / 13e0) + z * ((1e0 / 15e0) + z * ((1e0 / 17e0) + z * ((1e0 / 19e0) + z * ((1e0 / 21e0) + z * ((1e0 / 23e0))))))))))))) + em.e * LN2LO);
}

const pcosT = (t: number): number => {
  const t2 = t * t;
  return (1e0 / 1e0) + t2 * ((-1e0 / 2e0) + t2 * ((1e0 / 24e0) + t2 * ((-1e0 / 720e0) + t2 * ((1e0 / 40320e0) + t2 * ((-1e0 / 3628800e0) + t2 * ((1e0 / 479001600e0) + t2 * ((-1e0 / 87178291200e0) + t2 * ((1e0 / 20922789888000e0) + t2 * ((-1e0 / 6402373705728000e0))))))))));
};
const psinT = (t: number): number => {
  const t2 = t * t;
  return t * ((1e0 / 1e0) + t2 * ((-1e0 / 6e0) + t2 * ((1e0 / 120e0) + t2 * ((-1e0 / 5040e0) + t2 * ((1e0 / 362880e0) + t2 * ((-1e0 / 39916800e0) + t2 * ((1e0 / 6227020800e0) + t2 * ((-1e0 / 1307674368000e0) + t2 * ((1e0 / 355687428096000e0) + t2 * ((-1e0 / 121645100408832000e0)))))))))));
};
const pcosQ = (w: number): number => (w <= 0.125e0 ? pcosT(w * 6.283185307179586e0) : psinT((0.25e0 - w) * 6.283185307179586e0));

export function pcos2pi(u: number): number {
  const w = u <= 0.5e0 ? u : 1e0 - u;
  return w <= 0.25e0 ? pcosQ(w) : -pcosQ(0.5e0 - w);
}

export const u01 = (x: bigint): number => (Number(x >> 11n) + 0.5e0) / 9007199254740992e0;

export const drawNormal = (x: bigint): number => Math.sqrt(-2e0 * pln(u01(x))) * pcos2pi(u01(splitmix64(x)));
function normInvTail(q: number): number {
  const t = Math.sqrt(-2e0 * pln(Math.max(q, 1e-300)));
  return (((((-7.784894002430293e-03 * t - 3.223964580411365e-01) * t - 2.400758277161838e+00) * t - 2.549732539343734e+00) * t + 4.374664141464968e+00) * t + 2.938163982698783e+00)
    / ((((7.784695709041462e-03 * t + 3.224671290700398e-01) * t + 2.445134137142996e+00) * t + 3.754408661907416e+00) * t + 1e0);
}

/** Standard normal by inversion (Acklam's rational approximation), as norm_inv in prf.sql. */
export function normInv(p: number): number {
  if (p < 0.02425e0) return normInvTail(p);
  if (p > 0.97575e0) return -normInvTail(1e0 - p);
  const q = p - 0.5e0;
  const r = q * q;
  return ((((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q)
    / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1e0);
}
export const drawNormalFast = (x: bigint): number => normInv(u01(x));
export const drawLognormal = (x: bigint, mu: number, sigma: number): number => pexp(mu + sigma * drawNormal(x));

export function poissonInv(u: number, lam: number): number {
  const cap = Math.floor(lam + 12 * Math.sqrt(lam) + 25);
  let k = 0;
  let p = pexp(-lam);
  let f = p;
  for (let j = 1; j < cap; j++) {
    if (u <= f) break;
    k = j;
    const next = (p * lam) / j;
    f = f + next;
    p = next;
  }
  return k;
}

/** The Poisson CDF F_0..F_{cap-1} (the terms of poissonInv). */
export function poissonCdf(lam: number): number[] {
  const cap = Math.floor(lam + 12 * Math.sqrt(lam) + 25);
  let p = pexp(-lam);
  const f = [p];
  for (let j = 1; j < cap; j++) {
    p = (p * lam) / j;
    f.push(f[f.length - 1]! + p);
  }
  return f;
}

export const poissonFromCdf = (cdf: number[], u: number): number => Math.min(cdf.length - 1, cdf.filter((f) => f < u).length);

export function drawPoisson(x: bigint, lam: number, lamNormal = 400): number {
  if (lam <= 0) return 0;
  if (lam > lamNormal) return Math.max(0, Math.floor(lam + Math.sqrt(lam) * drawNormal(x) + 0.5));
  return poissonInv(u01(x), lam);
}

export function pickIndex(cumw: number[], u: number): number {
  const total = cumw[cumw.length - 1]!;
  return Math.min(cumw.length, cumw.filter((c) => c <= u * total).length + 1);
}

/** The orchestrator's stream_key: first 8 bytes (big-endian) of sha256(`state_id|seed|scenario_id`). */
export function streamKey(stateId: string, seed?: number, scenario?: string): bigint {
  const parts = [stateId, ...(seed === undefined ? [] : [String(seed)]), ...(scenario === undefined ? [] : [scenario])];
  return createHash('sha256').update(parts.join('|')).digest().readBigUInt64BE(0);
}
