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
