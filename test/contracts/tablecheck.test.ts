// The post-kernel table checks (ORCHESTRATOR.md §4) in one scan: every rule's count and the row
// count in one aggregate, offending rows only for failed rules, and a primary key that leads the
// sort key checked on adjacent rows, with the same messages as the GROUP BY check.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyLeads, scanTable } from '../../dag/contracts/tablecheck.js';
import { tableSchemaSchema } from '../../dag/contracts/table.js';

const schema = tableSchemaSchema.parse({
  type: 'table',
  columns: { a: { type: 'uint64', nullable: true }, b: { type: 'uint64' }, zone: { type: 'string', enum: ['n', 's'] }, v: { type: 'int32', minimum: 0, maximum: 9 } },
  primary_key: ['a', 'b'],
});

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

async function table(name: string, rows: string): Promise<string> {
  await con.run(`CREATE OR REPLACE TABLE ${name} AS SELECT a::UBIGINT AS a, b::UBIGINT AS b, zone, v::INTEGER AS v FROM (VALUES ${rows}) t(a, b, zone, v)`);
  return name;
}

describe('scanTable', () => {
  it('counts rows and finds nothing in a valid table, by adjacent rows or by GROUP BY', async () => {
    const t = await table('ok', "(1, 1, 'n', 0), (1, 2, 's', 9), (2, 1, 'n', 5), (NULL, 1, 'n', 1)");
    expect(await scanTable(con, t, schema, { sortedBy: ['a', 'b', 'v'] })).toEqual({ violations: [], rows: 4 });
    expect(await scanTable(con, t, schema, { sortedBy: ['v'] })).toEqual({ violations: [], rows: 4 });
  });

  it('reports a duplicated key by adjacent rows with the same message and sample as the GROUP BY check', async () => {
    const t = await table('dup', "(1, 1, 'n', 0), (2, 1, 's', 9), (1, 1, 'n', 5), (3, 3, 'n', 1)");
    const adjacent = await scanTable(con, t, schema, { sortedBy: ['b', 'a'] });
    const grouped = await scanTable(con, t, schema, {});
    expect(adjacent.violations).toEqual(grouped.violations);
    expect(adjacent.violations).toEqual([{ column: 'a, b', rule: 'primary-key', message: 'primary key (a, b) is duplicated', sample: [{ a: '1', b: '1', copies: '2' }] }]);
  });

  it('treats NULL key parts as equal, as GROUP BY does', async () => {
    const t = await table('nulls', "(NULL, 1, 'n', 0), (NULL, 1, 's', 9), (1, 1, 'n', 5)");
    const adjacent = await scanTable(con, t, schema, { sortedBy: ['a', 'b'] });
    expect(adjacent.violations.map((v) => v.rule)).toEqual(['primary-key']);
    expect(adjacent.violations).toEqual((await scanTable(con, t, schema)).violations);
  });

  it('reports every broken column rule from one aggregate, each with its offending rows', async () => {
    const t = await table('bad', "(1, 1, 'x', 10), (1, 2, 'n', -1), (2, 2, 'n', 3)");
    const { violations, rows } = await scanTable(con, t, schema, { sortedBy: ['a', 'b'] });
    expect(rows).toBe(3);
    expect(violations.map((v) => [v.rule, v.column, v.message])).toEqual([
      ['enum', 'zone', "column 'zone' holds values outside its enum [n, s]: 1 row(s)"],
      ['minimum', 'v', "column 'v' holds values below its minimum 0: 1 row(s)"],
      ['maximum', 'v', "column 'v' holds values above its maximum 9: 1 row(s)"],
    ]);
    expect(violations[0]!.sample).toEqual([{ a: '1', b: '1', zone: 'x', v: 10 }]);
  });
});

describe('keyLeads', () => {
  it('is true only when the first columns of the sort key are the key columns', () => {
    expect(keyLeads(['a', 'b'], ['a', 'b', 'c'])).toBe(true);
    expect(keyLeads(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(keyLeads(['a', 'b'], ['a', 'c', 'b'])).toBe(false);
    expect(keyLeads(['a', 'b'], ['a'])).toBe(false);
    expect(keyLeads(['a'], undefined)).toBe(false);
  });
});
