/** Where the files of a large output are cut: at values of its lead sort column. */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ident } from '../contracts/tablecheck.js';
import { cutsFromBins, LEAD_BINS } from './order.js';

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);

/**
 * Files cut at values of the lead sort column, so that each file sorts only its own rows (no
 * sorted copy of the whole output): the column's range in LEAD_BINS equal-width bins, counted in
 * one scan, grouped into files by `cutsFromBins`. Only for an integer or TIMESTAMP lead column;
 * undefined otherwise, or when its values bunch into too few bins. Depends on the values alone,
 * never on the thread count. NULLs sort last: they join the last file.
 */
export async function leadSlices(con: DuckDBConnection, rel: string, lead: string, rows: number, rowsPerFile: number): Promise<{ where: string }[] | undefined> {
  const type = String((await con.runAndReadAll(`SELECT typeof(${ident(lead)}) AS t FROM ${ident(rel)} LIMIT 1`)).getRowObjectsJS()[0]?.t);
  const c = ident(lead);
  const num = INTEGER_TYPES.has(type) ? `${c}::HUGEINT` : type === 'TIMESTAMP' ? `epoch_us(${c})::HUGEINT` : undefined;
  if (!num) return undefined;
  const r = (await con.runAndReadAll(`SELECT min(${num})::VARCHAR AS lo, max(${num})::VARCHAR AS hi, count(${c}) AS n FROM ${ident(rel)}`)).getRowObjectsJS()[0]!;
  if (Number(r.n) === 0) return undefined;
  const lo = BigInt(String(r.lo));
  const hi = BigInt(String(r.hi));
  const width = (hi - lo) / BigInt(LEAD_BINS) + 1n;
  // a row's bin in 64-bit arithmetic (HUGEINT division costs several times more per row): unsigned
  // offsets from the minimum fit a UBIGINT, signed ones a BIGINT when the range does
  const offset = type.startsWith('U') ? `(${c}::UBIGINT - ${lo}::UBIGINT)` : hi - lo < 2n ** 63n ? `(${type === 'TIMESTAMP' ? `epoch_us(${c})` : `${c}::BIGINT`} - ${lo}::BIGINT)` : `(${num} - ${lo})`;
  const bins = (await con.runAndReadAll(`SELECT (${offset} // ${width})::INTEGER AS bin, count(*) AS rows FROM ${ident(rel)} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY 1`)).getRowObjectsJS();
  const cuts = cutsFromBins(bins.map((b) => ({ bin: Number(b.bin), rows: Number(b.rows) })), rowsPerFile);
  if (!cuts) return undefined;
  const literal = (v: bigint) => (type === 'TIMESTAMP' ? `make_timestamp(${v}::BIGINT)` : `${v}::${type}`);
  return cuts.map((cut, i) => {
    const from = lo + BigInt(cut.loBin) * width;
    const to = lo + BigInt(cut.hiBin + 1) * width - 1n;
    const range = `${c} BETWEEN ${literal(from)} AND ${literal(to < hi ? to : hi)}`;
    return { where: i === cuts.length - 1 && Number(r.n) < rows ? `(${range} OR ${c} IS NULL)` : range };
  });
}

