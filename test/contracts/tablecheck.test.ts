// The post-kernel table checks (ORCHESTRATOR.md §4) in one scan: every rule's count and the row
// count in one aggregate, offending rows only for failed rules, and a primary key that leads the
// sort key checked on adjacent rows, with the same messages as the GROUP BY check.
import { beforeAll, describe, expect, it } from 'vitest';
import { adjacentDuplicates, scanTable } from '../../dag/contracts/tablecheck.js';
import { tableSchemaSchema } from '../../dag/contracts/table.js';
import { fileDuckDB } from '../support/duckdb.js';

const schema = tableSchemaSchema.parse({
  type: 'table',
  columns: { a: { type: 'uint64', nullable: true }, b: { type: 'uint64' }, zone: { type: 'string', enum: ['n', 's'] }, v: { type: 'int32', minimum: 0, maximum: 9 } },
  primary_key: ['a', 'b'],
});

const duck = fileDuckDB();

async function table(name: string, rows: string): Promise<string> {
  await duck.con.run(`CREATE OR REPLACE TABLE ${name} AS SELECT a::UBIGINT AS a, b::UBIGINT AS b, zone, v::INTEGER AS v FROM (VALUES ${rows}) t(a, b, zone, v)`);
  return name;
}

async function sortedCopy(t: string): Promise<{ name: string; rows: number }> {
  await duck.con.run(`CREATE OR REPLACE TEMP TABLE sorted_${t} AS SELECT * FROM ${t} ORDER BY a NULLS LAST, b NULLS LAST`);
  const rows = Number((await duck.con.runAndReadAll(`SELECT count(*) FROM sorted_${t}`)).getRowsJS()[0]![0]);
  return { name: `sorted_${t}`, rows };
}

describe('scanTable', () => {
  it('counts rows and finds nothing in a valid table', async () => {
    const t = await table('ok', "(1, 1, 'n', 0), (1, 2, 's', 9), (2, 1, 'n', 5), (NULL, 1, 'n', 1)");
    expect(await scanTable(duck.con, t, schema)).toEqual({ violations: [], rows: 4 });
  });

  it('takes a DuckDB ENUM for a string column, and still finds values outside the contract enum (even ones the ENUM type lacks)', async () => {
    await duck.con.run("CREATE TYPE zone_e AS ENUM ('n', 's', 'x')");
    await duck.con.run("CREATE OR REPLACE TABLE en AS SELECT a, b, zone::zone_e AS zone, v FROM (VALUES (1::UBIGINT, 1::UBIGINT, 'n', 0), (1, 2, 's', 9)) t(a, b, zone, v)");
    expect(await scanTable(duck.con, 'en', schema)).toEqual({ violations: [], rows: 2 });
    await duck.con.run("INSERT INTO en VALUES (2, 2, 'x', 3)");
    expect((await scanTable(duck.con, 'en', schema)).violations.map((v) => [v.rule, v.column])).toEqual([['enum', 'zone']]);
    // an ENUM for a column the contract types otherwise is still a type error
    await duck.con.run("CREATE OR REPLACE TABLE en2 AS SELECT a, b, zone, v::VARCHAR::zone_e AS v FROM (VALUES (1::UBIGINT, 1::UBIGINT, 'n', 'n')) t(a, b, zone, v)");
    expect((await scanTable(duck.con, 'en2', schema)).violations.map((v) => [v.rule, v.column])).toEqual([['type', 'v']]);
  });

  it('leaves the primary key to the caller when asked to', async () => {
    const t = await table('dup', "(1, 1, 'n', 0), (2, 1, 's', 9), (1, 1, 'n', 5), (3, 3, 'n', 1)");
    expect(await scanTable(duck.con, t, schema, { skipPrimaryKey: true })).toEqual({ violations: [], rows: 4 });
    expect((await scanTable(duck.con, t, schema)).violations).toEqual([{ column: 'a, b', rule: 'primary-key', message: 'primary key (a, b) is duplicated', sample: [{ a: '1', b: '1', copies: '2' }] }]);
  });

  it('reports every broken column rule from one aggregate, each with its offending rows', async () => {
    const t = await table('bad', "(1, 1, 'x', 10), (1, 2, 'n', -1), (2, 2, 'n', 3)");
    const { violations, rows } = await scanTable(duck.con, t, schema);
    expect(rows).toBe(3);
    expect(violations.map((v) => [v.rule, v.column, v.message])).toEqual([
      ['enum', 'zone', "column 'zone' holds values outside its enum [n, s]: 1 row(s)"],
      ['minimum', 'v', "column 'v' holds values below its minimum 0: 1 row(s)"],
      ['maximum', 'v', "column 'v' holds values above its maximum 9: 1 row(s)"],
    ]);
    expect(violations[0]!.sample).toEqual([{ a: '1', b: '1', zone: 'x', v: 10 }]);
  });
});

describe('adjacentDuplicates on rows sorted by the key', () => {
  beforeAll(() => duck.con.run('SET preserve_insertion_order = true'));

  it('finds a duplicated key, and none in a unique one', async () => {
    const dup = await sortedCopy(await table('adj_dup', "(3, 3, 'n', 1), (1, 1, 'n', 0), (2, 1, 's', 9), (1, 1, 'n', 5)"));
    expect(await adjacentDuplicates(duck.con, dup.name, ['a', 'b'], dup.rows)).toBe(true);
    const ok = await sortedCopy(await table('adj_ok', "(3, 3, 'n', 1), (1, 1, 'n', 0), (2, 1, 's', 9), (1, 2, 'n', 5)"));
    expect(await adjacentDuplicates(duck.con, ok.name, ['a', 'b'], ok.rows)).toBe(false);
  });

  it('treats NULL key parts as equal, as GROUP BY does', async () => {
    const t = await sortedCopy(await table('adj_nulls', "(NULL, 1, 'n', 0), (1, 1, 'n', 5), (NULL, 1, 's', 9)"));
    expect(await adjacentDuplicates(duck.con, t.name, ['a', 'b'], t.rows)).toBe(true);
  });

  it('finds the duplicates among 300 000 rows sorted with 4 threads', async () => {
    await duck.con.run("SET threads = 4");
    await duck.con.run("CREATE OR REPLACE TABLE big AS SELECT (hash(range) % 1000)::UBIGINT AS a, range::UBIGINT AS b, 'n' AS zone, 0 AS v FROM range(300000) UNION ALL SELECT (hash(range) % 1000)::UBIGINT, range::UBIGINT, 'n', 1 FROM range(300000) WHERE range = 123456");
    const t = await sortedCopy('big');
    expect(await adjacentDuplicates(duck.con, t.name, ['a', 'b'], t.rows)).toBe(true);
    await duck.con.run('DELETE FROM big WHERE v = 1');
    const u = await sortedCopy('big');
    expect(await adjacentDuplicates(duck.con, u.name, ['a', 'b'], u.rows)).toBe(false);
  });
});
