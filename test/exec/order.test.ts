// How outputs are ordered and split (dag/exec/order.ts): pure decisions.
import { describe, expect, it } from 'vitest';
import { fileRanges, keyLeads, partFile, sortKeyOf } from '../../dag/exec/order.js';

describe('sortKeyOf', () => {
  const columns = ['id', 'seq', 'zone', 'amount'];
  it('is order_by alone when order_by holds every primary-key column', () => {
    expect(sortKeyOf(['zone', 'id', 'seq'], columns, ['id', 'seq'])).toEqual(['zone', 'id', 'seq']);
    expect(sortKeyOf(['seq', 'id'], columns, ['id', 'seq'])).toEqual(['seq', 'id']);
  });
  it('breaks ties by every other column otherwise (no key, or a key order_by misses)', () => {
    expect(sortKeyOf(['zone'], columns, ['id'])).toEqual(['zone', 'id', 'seq', 'amount']);
    expect(sortKeyOf(['id'], columns, ['id', 'seq'])).toEqual(['id', 'seq', 'zone', 'amount']);
    expect(sortKeyOf(['id'], columns, undefined)).toEqual(['id', 'seq', 'zone', 'amount']);
  });
});

describe('fileRanges and partFile', () => {
  it('cuts the sorted rows into contiguous ranges of rows_per_file, the last one shorter', () => {
    expect(fileRanges(400, 150)).toEqual([{ offset: 0, rows: 150 }, { offset: 150, rows: 150 }, { offset: 300, rows: 100 }]);
    expect(fileRanges(300, 150)).toEqual([{ offset: 0, rows: 150 }, { offset: 150, rows: 150 }]);
  });
  it('names file i <dataset>-NNNN.parquet beside <dataset>.parquet', () => {
    expect(partFile('/x/out/events.parquet', 0)).toBe('/x/out/events-0000.parquet');
    expect(partFile('/x/out/events.parquet', 12)).toBe('/x/out/events-0012.parquet');
  });
});

describe('keyLeads', () => {
  it('is true only when the first columns of the sort key are the key columns', () => {
    expect(keyLeads(['a', 'b'], ['a', 'b', 'c'])).toBe(true);
    expect(keyLeads(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(keyLeads(['a', 'b'], ['a', 'c', 'b'])).toBe(false);
    expect(keyLeads(['a', 'b'], ['a'])).toBe(false);
    expect(keyLeads(undefined, ['a'])).toBe(false);
  });
});
