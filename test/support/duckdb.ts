// One in-memory DuckDB for a test file: opened before its tests, closed after them.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';

/** `duck.con` is the file's connection once its tests run; `setup` runs on it first (a prelude, tables). */
export function fileDuckDB(setup?: (con: DuckDBConnection) => Promise<void>): { con: DuckDBConnection } {
  const duck = {} as { con: DuckDBConnection };
  let db: DuckDBInstance;
  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:', { threads: '2' });
    duck.con = await db.connect();
    await setup?.(duck.con);
  });
  afterAll(() => {
    duck.con.closeSync();
    db.closeSync();
  });
  return duck;
}
