// Where a large output's files are cut (dag/exec/slices.ts): slices of the lead sort column's
// values that hold every row exactly once, in sort order, near rows_per_file rows each.
import { describe, expect, it } from 'vitest';
import { leadSlices } from '../../dag/exec/slices.js';
import { fileDuckDB } from '../support/duckdb.js';

const duck = fileDuckDB();

/**
 * The slices leadSlices cuts `table` into, after checking that they hold every row once, at most
 * `rowsPerFile` each, and that each slice's lead values all lie above the previous slice's.
 */
async function checkedSlices(table: string, lead: string, rows: number, rowsPerFile: number): Promise<{ where: string }[]> {
  const con = duck.con;
  const slices = (await leadSlices(con, table, lead, rows, rowsPerFile))!;
  expect(slices).toBeDefined();
  let total = 0;
  for (const [i, s] of slices.entries()) {
    const n = Number((await con.runAndReadAll(`SELECT count(*) AS n FROM ${table} WHERE ${s.where}`)).getRowObjectsJS()[0]!.n);
    expect(n).toBeLessThanOrEqual(rowsPerFile);
    total += n;
    if (i === 0) continue;
    const above = (await con.runAndReadAll(`SELECT (SELECT min(${lead}) FROM ${table} WHERE ${s.where}) > (SELECT max(${lead}) FROM ${table} WHERE ${slices[i - 1]!.where}) AS ok`)).getRowObjectsJS()[0]!;
    expect(above.ok, `slice ${i} lies above slice ${i - 1}`).toBe(true);
  }
  expect(total).toBe(rows);
  return slices;
}

describe('leadSlices', () => {
  it('cuts a signed BIGINT lead spanning negative values into disjoint ascending slices that hold every row once', async () => {
    await duck.con.run('CREATE TABLE s AS SELECT (hash(range) % 2000)::BIGINT - 1000 AS k, range AS v FROM range(100000)');
    expect((await checkedSlices('s', 'k', 100_000, 30_000)).length).toBe(4);
  });

  it('cuts a TIMESTAMP lead, and puts NULL leads (sorted last) in the last slice', async () => {
    await duck.con.run("CREATE TABLE t AS SELECT CASE WHEN range % 50 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01' + to_seconds((hash(range) % 7776000)::BIGINT) END AS k FROM range(90000)");
    const slices = await checkedSlices('t', 'k', 90_000, 40_000);
    expect(slices.length).toBe(3);
    expect(slices[slices.length - 1]!.where).toMatch(/IS NULL/);
    expect(slices.slice(0, -1).every((s) => !/IS NULL/.test(s.where))).toBe(true);
  });

  it('cuts a UBIGINT lead near 2^64 in 64-bit arithmetic', async () => {
    await duck.con.run('CREATE TABLE u AS SELECT 18446744073709551615::UBIGINT - (hash(range) % 100000)::UBIGINT AS k FROM range(50000)');
    expect((await checkedSlices('u', 'k', 50_000, 20_000)).length).toBeGreaterThan(1);
  });

  it('gives up on a string lead, and on a lead whose values bunch into one bin (the caller then sorts it whole)', async () => {
    await duck.con.run("CREATE TABLE w AS SELECT (['a', 'b'])[(range % 2) + 1] AS zone, CASE WHEN range < 95000 THEN 7 ELSE range END::BIGINT AS k FROM range(100000)");
    expect(await leadSlices(duck.con, 'w', 'zone', 100_000, 30_000)).toBeUndefined();
    expect(await leadSlices(duck.con, 'w', 'k', 100_000, 30_000)).toBeUndefined();
  });
});
