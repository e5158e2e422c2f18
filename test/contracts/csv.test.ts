// Issue 13: a CSV input that its contract's types cannot read is reported with the line, the
// column, the value and the type expected, not DuckDB's first line alone.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsvChecked } from '../../dag/contracts/csv.js';
import { tableSchemaSchema } from '../../dag/contracts/table.js';
import { fileDuckDB } from '../support/duckdb.js';

const duck = fileDuckDB();
const schema = tableSchemaSchema.parse({ type: 'table', columns: { region: { type: 'string' }, weight: { type: 'int64' } } });

describe('loadCsvChecked', () => {
  it('names the line, column, value and the contract type of a value that does not convert', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dag-csv-')), 'regions.csv');
    writeFileSync(file, 'region,weight\nnorth,3\nsouth,heavy\n');
    const v = await loadCsvChecked(duck.con, 'regions', file, schema);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ rule: 'type', column: 'weight' });
    expect(v[0]!.message).toBe("line 3, column 'weight': value 'heavy' does not convert to int64, the contract's type (BIGINT in DuckDB)");
  });

  it('loads a file that converts', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dag-csv-')), 'regions.csv');
    writeFileSync(file, 'region,weight\nnorth,3\nsouth,4\n');
    expect(await loadCsvChecked(duck.con, 'regions_ok', file, schema)).toEqual([]);
  });
});
