import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as prf from '../../states/_lib/prf.js';
import { fileDuckDB } from '../support/duckdb.js';

const PRELUDE = join(import.meta.dirname, '..', '..', 'states', '_lib', 'prf.sql');
const duck = fileDuckDB(async (con) => {
  await con.run(readFileSync(PRELUDE, 'utf8'));
});

async function sql(q: string): Promise<Record<string, unknown>[]> {
  return (await duck.con.runAndReadAll(q)).getRowObjectsJS() as Record<string, unknown>[];
}

/** Bit pattern of a double, so equality is bit for bit (and -0 != 0). */
const bits = (x: number) => Buffer.from(new Float64Array([x]).buffer).readBigUInt64LE(0);

// Inputs spread over the whole 64-bit range, including the edges.
const KEYS = [0n, 1n, 2n, 42n, 7n, 0xffffffffffffffffn, 0x8000000000000000n, 0x9e3779b97f4a7c15n, 123456789012345678n, ...Array.from({ length: 60 }, (_, i) => prf.splitmix64(BigInt(i) * 977n))];

describe('PRF prelude: golden vectors', () => {
  it('splitmix64 matches the published SplitMix64 sequence from state 0', () => {
    // Vigna's splitmix64.c seeded with 0: the first outputs are these (state advances by the gamma each step).
    expect(prf.splitmix64(0n)).toBe(0xe220a8397b1dcdafn);
    expect(prf.splitmix64(0x9e3779b97f4a7c15n)).toBe(0x6e789e6aa1b965f4n);
    expect(prf.splitmix64(0x3c6ef372fe94f82an)).toBe(0x06c45d188009454fn);
  });

  it('pins a few values of every function, so a change in the reference is seen', () => {
    expect(prf.mix64(42n, 7n)).toMatchInlineSnapshot(`7974615062405353404n`);
    expect(prf.prf3(1n, 2n, 3n, 4n)).toMatchInlineSnapshot(`10281589820224458653n`);
    expect(prf.keyOf('DE')).toMatchInlineSnapshot(`8331145566622250587n`);
    expect(prf.u01(0n)).toBe(0.5 / 2 ** 53);
    expect(prf.u01(0xffffffffffffffffn)).toBe((2 ** 53 - 0.5) / 2 ** 53);
    expect(prf.drawNormal(12345n)).toMatchInlineSnapshot(`5.597424444203806`);
    expect(prf.drawPoisson(12345n, 3.5)).toMatchInlineSnapshot(`0`);
    expect(prf.pickIndex([1, 3, 6], 0.49)).toBe(2); // weights 1, 2, 3: u * 6 = 2.94 falls in the second cell
    expect(prf.pickIndex([1, 3, 6], 0.5)).toBe(3); // a cell's upper edge belongs to the next cell
    expect(prf.streamKey('1A.S1', 42)).toMatchInlineSnapshot(`5264801058170254186n`);
  });

  it('the SQL integer macros equal the reference bit for bit', async () => {
    const values = KEYS.map((k, i) => `(${i}, ${k}::UBIGINT)`).join(', ');
    const rows = await sql(`SELECT k, splitmix64(k) AS s, mix64(k, 7::UBIGINT) AS m, prf2(k, 3, 5) AS p2, prf3(k, 1, 2, 3) AS p3 FROM (VALUES ${values}) t(i, k) ORDER BY i`);
    expect(rows).toHaveLength(KEYS.length);
    rows.forEach((r, i) => {
      const k = KEYS[i]!;
      expect(r.k).toBe(k);
      expect(r.s).toBe(prf.splitmix64(k));
      expect(r.m).toBe(prf.mix64(k, 7n));
      expect(r.p2).toBe(prf.prf2(k, 3n, 5n));
      expect(r.p3).toBe(prf.prf3(k, 1n, 2n, 3n));
    });
  });

  it('the SQL draws equal the reference bit for bit (u01, normal, lognormal, Poisson both regimes, pick)', async () => {
    const values = KEYS.map((k, i) => `(${i}, ${k}::UBIGINT)`).join(', ');
    const rows = await sql(`SELECT u01(k) AS u, draw_normal(k) AS z, draw_lognormal(k, 1.5, 0.8) AS ln,
        draw_poisson(k, 0.3) AS p0, draw_poisson(k, 4.2) AS p1, draw_poisson(k, 61.0) AS p2, draw_poisson(k, 5000.0) AS p3,
        pick_index([0.1, 0.35, 0.35, 0.9, 1.4], u01(k)) AS pick
      FROM (VALUES ${values}) t(i, k) ORDER BY i`);
    rows.forEach((r, i) => {
      const k = KEYS[i]!;
      expect(bits(r.u as number)).toBe(bits(prf.u01(k)));
      expect(bits(r.z as number)).toBe(bits(prf.drawNormal(k)));
      expect(bits(r.ln as number)).toBe(bits(prf.drawLognormal(k, 1.5, 0.8)));
      expect(Number(r.p0)).toBe(prf.drawPoisson(k, 0.3));
      expect(Number(r.p1)).toBe(prf.drawPoisson(k, 4.2));
      expect(Number(r.p2)).toBe(prf.drawPoisson(k, 61.0));
      expect(Number(r.p3)).toBe(prf.drawPoisson(k, 5000.0));
      expect(Number(r.pick)).toBe(prf.pickIndex([0.1, 0.35, 0.35, 0.9, 1.4], prf.u01(k)));
    });
  });

  it('norm_inv (the fast normal) equals the reference bit for bit, tails included, and inverts the normal CDF', async () => {
    const us = [1e-12, 1e-6, 0.001, 0.02, 0.02425, 0.1, 0.3, 0.5, 0.77, 0.97575, 0.99, 0.999999];
    const rows = await sql(`SELECT u, norm_inv(u) AS z FROM (VALUES ${us.map((u, i) => `(${i}, ${u}::DOUBLE)`).join(', ')}) t(i, u) ORDER BY i`);
    rows.forEach((r, i) => expect(bits(r.z as number), `u = ${us[i]}`).toBe(bits(prf.normInv(us[i]!))));
    const keyed = await sql(`SELECT draw_normal_fast(k) AS z FROM (VALUES ${KEYS.map((k, i) => `(${i}, ${k}::UBIGINT)`).join(', ')}) t(i, k) ORDER BY i`);
    keyed.forEach((r, i) => expect(bits(r.z as number)).toBe(bits(prf.drawNormalFast(KEYS[i]!))));
    // known quantiles of the standard normal
    expect(prf.normInv(0.5)).toBe(0);
    expect(prf.normInv(0.975)).toBeCloseTo(1.959963985, 7);
    expect(prf.normInv(0.001)).toBeCloseTo(-3.090232306, 7);
    expect(prf.normInv(1e-9)).toBeCloseTo(-5.997807015, 6);
  });

  it('Poisson from a precomputed CDF equals exact inversion, in SQL and in the reference', async () => {
    const lams = [0, 0.12, 1.5, 6, 61, 399];
    for (const lam of lams) {
      const cdf = prf.poissonCdf(lam);
      for (const k of KEYS) expect(prf.poissonFromCdf(cdf, prf.u01(k))).toBe(lam <= 0 ? 0 : prf.poissonInv(prf.u01(k), lam));
    }
    const values = KEYS.map((k, i) => `(${i}, ${k}::UBIGINT)`).join(', ');
    const rows = await sql(`SELECT k, l, draw_poisson_cdf(k, l, poisson_table(l)) AS viacdf, draw_poisson(k, l) AS direct
      FROM (VALUES ${values}) t(i, k), (VALUES ${lams.map((l) => `(${l}e0)`).join(', ')}) s(l) ORDER BY i, l`);
    expect(rows).toHaveLength(KEYS.length * lams.length);
    for (const r of rows) {
      expect(r.viacdf).toBe(r.direct);
      expect(Number(r.direct)).toBe(prf.drawPoisson(r.k as bigint, r.l as number));
    }
  });

  it('key_of equals the reference for text keys', async () => {
    const words = ['DE', 'US', 'grocery', '5411', 'é-ü', ''];
    const rows = await sql(`SELECT key_of(w) AS k FROM (VALUES ${words.map((w, i) => `(${i}, '${w}')`).join(', ')}) t(i, w) ORDER BY i`);
    rows.forEach((r, i) => expect(r.k).toBe(prf.keyOf(words[i]!)));
  });

  it('the portable exp, ln and cos agree with the platform functions to within a few ulp', () => {
    for (let i = 0; i < 20000; i++) {
      const x = (i / 20000) * 60 - 40; // exp over [-40, 20]
      expect(Math.abs(prf.pexp(x) / Math.exp(x) - 1)).toBeLessThan(1e-15);
      const y = 1e-12 + (i / 20000) * 50; // ln over (0, 50]
      expect(Math.abs(prf.pln(y) - Math.log(y))).toBeLessThan(2e-15 * Math.max(1, Math.abs(Math.log(y))));
      const u = i / 20000; // cos(2 pi u) over [0, 1)
      expect(Math.abs(prf.pcos2pi(u) - Math.cos(2 * Math.PI * u))).toBeLessThan(1e-15);
    }
    expect(prf.pln(1)).toBe(0);
    expect(prf.pexp(0)).toBe(1);
    expect(prf.pcos2pi(0)).toBe(1);
    expect(prf.pcos2pi(0.5)).toBe(-1);
  });

  it('stream keys differ by seed and leave the seed out when none is given', () => {
    expect(prf.streamKey('1A.S1', 42)).not.toBe(prf.streamKey('1A.S1', 7));
    expect(prf.streamKey('1A.S0')).not.toBe(prf.streamKey('1A.S0', 42));
  });

  it('splitmix_table and counter_draws (the staged forms) equal splitmix64 and draw_at, and draw_at the reference', async () => {
    const values = KEYS.map((k, i) => `(${i}, ${k}::UBIGINT)`).join(', ');
    await duck.con.run(`CREATE OR REPLACE TABLE sm_t AS SELECT i, k AS sm_in, k FROM (VALUES ${values}) t(i, k)`);
    const [s] = await sql(`SELECT count(*) AS n, count(*) FILTER (WHERE sm_out <> splitmix64(k)) AS bad FROM splitmix_table(sm_t)`);
    expect([s!.n, s!.bad]).toEqual([BigInt(KEYS.length), 0n]);
    // counts across the 1024-counter chunks (0, 1, 1023, 1024, 1025, 3000), and a row with none
    const ns = [0, 1, 1023, 1024, 1025, 3000];
    await duck.con.run(`CREATE OR REPLACE TABLE cd_t AS SELECT i, k AS draw_key, k, (${`[${ns.join(', ')}]`})[1 + i % ${ns.length}]::BIGINT AS draw_n FROM (VALUES ${values}) t(i, k)`);
    const [c] = await sql(`SELECT count(*) AS n, count(DISTINCT (i, draw_j)) AS uniq, count(*) FILTER (WHERE draw_x <> draw_at(k, draw_j)) AS bad,
      (SELECT sum(draw_n) FROM cd_t) AS want FROM counter_draws(cd_t)`);
    expect(c!.bad).toBe(0n);
    expect(c!.n).toBe(c!.want);
    expect(c!.uniq).toBe(c!.want);
    const picks = await sql(`SELECT k, j, draw_at(k, j) AS x FROM (VALUES (42::UBIGINT, 0), (42::UBIGINT, 1023), (42::UBIGINT, 1024), (${0xffffffffffffffffn}::UBIGINT, 5000)) t(k, j)`);
    for (const r of picks) expect(r.x).toBe(prf.drawAt(r.k as bigint, BigInt(r.j as number)));
  });

  it('draws have the right distribution (a sanity check, 20 000 draws in SQL)', async () => {
    const [r] = await sql(`SELECT avg(z) AS mz, stddev_samp(z) AS sz, avg(p) AS mp, var_samp(p) AS vp, min(u) > 0 AND max(u) < 1 AS inside
      FROM (SELECT draw_normal(mix64(99, i)) AS z, draw_poisson(mix64(98, i), 6.0) AS p, u01(mix64(97, i)) AS u FROM range(20000) t(i))`);
    expect(Math.abs(r!.mz as number)).toBeLessThan(0.05);
    expect(Math.abs((r!.sz as number) - 1)).toBeLessThan(0.05);
    expect(Math.abs((r!.mp as number) - 6)).toBeLessThan(0.1);
    expect(Math.abs((r!.vp as number) - 6)).toBeLessThan(0.4);
    expect(r!.inside).toBe(true);
  });
});
