// Where a large output's files are cut (dag/exec/slices.ts): slices of the lead sort column's
// values that hold every row exactly once, in sort order, near rows_per_file rows each.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadSlices } from '../../dag/exec/slices.js';

let db: DuckDBInstance;
let con: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:', { threads: '2' });
  con = await db.connect();
});
afterAll(() => {
  con.closeSync();
  db.closeSync();
});

/** Rows per slice, and whether each slice's lead values all lie above the previous slice's. */
async function partition(table: string, lead: string, slices: { where: string }[]): Promise<{ counts: number[]; ordered: boolean }> {
  const counts: number[] = [];
  let ordered = true;
  let prevMax: string | null = null;
  for (const s of slices) {
    const r = (await con.runAndReadAll(`SELECT count(*) AS n, min(${lead})::VARCHAR AS lo, max(${lead})::VARCHAR AS hi FROM ${table} WHERE ${s.where}`)).getRowObjectsJS()[0]!;
    counts.push(Number(r.n));
    if (prevMax !== null && r.lo !== null) {
      const above = (await con.runAndReadAll(`SELECT (SELECT min(${lead}) FROM ${table} WHERE ${s.where}) > (SELECT max(${lead}) FROM ${table} WHERE ${slices[counts.length - 2]!.where}) AS ok`)).getRowObjectsJS()[0]!;
      ordered &&= above.ok === true;
    }
    prevMax = r.hi as string | null;
  }
  return { counts, ordered };
}

describe('leadSlices', () => {
  it('cuts a signed BIGINT lead spanning negative values into disjoint ascending slices that hold every row once', async () => {
    await con.run('CREATE TABLE s AS SELECT (hash(range) % 2000)::BIGINT - 1000 AS k, range AS v FROM range(100000)');
    const slices = (await leadSlices(con, 's', 'k', 100_000, 30_000))!;
    expect(slices.length).toBe(4);
    const { counts, ordered } = await partition('s', 'k', slices);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    for (const n of counts) expect(n).toBeLessThanOrEqual(30_000);
    expect(ordered).toBe(true);
  });

  it('cuts a TIMESTAMP lead, and puts NULL leads (sorted last) in the last slice', async () => {
    await con.run("CREATE TABLE t AS SELECT CASE WHEN range % 50 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01' + to_seconds((hash(range) % 7776000)::BIGINT) END AS k FROM range(90000)");
    const slices = (await leadSlices(con, 't', 'k', 90_000, 40_000))!;
    expect(slices.length).toBe(3);
    const { counts, ordered } = await partition('t', 'k', slices);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(90_000);
    expect(ordered).toBe(true);
    expect(slices[slices.length - 1]!.where).toMatch(/IS NULL/);
    expect(slices.slice(0, -1).every((s) => !/IS NULL/.test(s.where))).toBe(true);
  });

  it('cuts a UBIGINT lead near 2^64 in 64-bit arithmetic', async () => {
    await con.run('CREATE TABLE u AS SELECT 18446744073709551615::UBIGINT - (hash(range) % 100000)::UBIGINT AS k FROM range(50000)');
    const slices = (await leadSlices(con, 'u', 'k', 50_000, 20_000))!;
    const { counts, ordered } = await partition('u', 'k', slices);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(50_000);
    expect(ordered).toBe(true);
  });

  it('gives up on a string lead, and on a lead whose values bunch into one bin (the caller then sorts it whole)', async () => {
    await con.run("CREATE TABLE w AS SELECT (['a', 'b'])[(range % 2) + 1] AS zone, CASE WHEN range < 95000 THEN 7 ELSE range END::BIGINT AS k FROM range(100000)");
    expect(await leadSlices(con, 'w', 'zone', 100_000, 30_000)).toBeUndefined();
    expect(await leadSlices(con, 'w', 'k', 100_000, 30_000)).toBeUndefined();
  });
});
