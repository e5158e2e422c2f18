/** How an output's rows are ordered and split into files: pure decisions the kernel process applies. */

/**
 * The sort key of a published output: `order_by` alone when it holds every primary-key column
 * (a checked-unique key already makes the order total), else `order_by` then every other column,
 * so that ties cannot make bytes depend on the thread count.
 */
export function sortKeyOf(orderBy: readonly string[], columns: readonly string[], primaryKey: readonly string[] | undefined): string[] {
  if (primaryKey && primaryKey.length > 0 && primaryKey.every((c) => orderBy.includes(c))) return [...orderBy];
  return [...orderBy, ...columns.filter((c) => !orderBy.includes(c))];
}

/** Rows in file i of an output split `rowsPerFile` at a time: contiguous ranges of the sorted order. */
export function fileRanges(rows: number, rowsPerFile: number): { offset: number; rows: number }[] {
  const ranges = [];
  for (let offset = 0; offset < rows; offset += rowsPerFile) ranges.push({ offset, rows: Math.min(rowsPerFile, rows - offset) });
  return ranges;
}

/** Equal-width bins of the lead sort column's values that `leadCuts` groups into files. */
export const LEAD_BINS = 4096;

/** A file's bins of the lead sort column, first to last, and its rows. */
export interface LeadCut {
  loBin: number;
  hiBin: number;
  rows: number;
}

/**
 * Files cut at boundaries of the lead sort column, from its value histogram (bins in ascending
 * order, empty ones left out): consecutive bins go to one file until the next would take it past
 * `rowsPerFile` (a bin is never split, so rows of one lead value share a file). Undefined when a
 * file would hold more than twice `rowsPerFile` (a lead column of few values): the caller then
 * sorts the whole output and cuts it by row ranges instead.
 */
export function cutsFromBins(bins: readonly { bin: number; rows: number }[], rowsPerFile: number): LeadCut[] | undefined {
  const cuts: LeadCut[] = [];
  for (const b of bins) {
    const last = cuts[cuts.length - 1];
    if (last && last.rows + b.rows <= rowsPerFile) {
      last.hiBin = b.bin;
      last.rows += b.rows;
    } else cuts.push({ loBin: b.bin, hiBin: b.bin, rows: b.rows });
  }
  return cuts.some((c) => c.rows > 2 * rowsPerFile) ? undefined : cuts;
}

/** `<dataset>-NNNN.parquet` beside the single-file name `<dataset>.parquet` (ORCHESTRATOR.md §5a). */
export function partFile(singleFile: string, i: number): string {
  return singleFile.replace(/\.parquet$/, `-${String(i).padStart(4, '0')}.parquet`);
}

/** True when the first columns of `sortKey` are exactly the key's columns (in any order). */
export function keyLeads(key: readonly string[] | undefined, sortKey: readonly string[]): boolean {
  if (!key || key.length === 0 || sortKey.length < key.length) return false;
  const lead = new Set(sortKey.slice(0, key.length));
  return lead.size === key.length && key.every((c) => lead.has(c));
}
