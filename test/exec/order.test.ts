// How outputs are ordered and split (dag/exec/order.ts): pure decisions.
import { describe, expect, it } from 'vitest';
import { cutsFromBins, fileRanges, keyLeads, partFile, sortKeyOf } from '../../dag/exec/order.js';

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

describe('cutsFromBins', () => {
  it('groups consecutive bins into files of at most rows_per_file rows, never splitting a bin', () => {
    const bins = [{ bin: 0, rows: 60 }, { bin: 1, rows: 50 }, { bin: 3, rows: 40 }, { bin: 7, rows: 90 }, { bin: 9, rows: 10 }];
    expect(cutsFromBins(bins, 150)).toEqual([{ loBin: 0, hiBin: 3, rows: 150 }, { loBin: 7, hiBin: 9, rows: 100 }]);
    expect(cutsFromBins(bins, 100)).toEqual([{ loBin: 0, hiBin: 0, rows: 60 }, { loBin: 1, hiBin: 3, rows: 90 }, { loBin: 7, hiBin: 9, rows: 100 }]);
  });
  it('gives a bin bigger than rows_per_file a file of its own, and gives up past twice rows_per_file', () => {
    expect(cutsFromBins([{ bin: 0, rows: 10 }, { bin: 1, rows: 180 }, { bin: 2, rows: 10 }], 100)).toEqual([
      { loBin: 0, hiBin: 0, rows: 10 },
      { loBin: 1, hiBin: 1, rows: 180 },
      { loBin: 2, hiBin: 2, rows: 10 },
    ]);
    expect(cutsFromBins([{ bin: 0, rows: 10 }, { bin: 1, rows: 201 }], 100)).toBeUndefined();
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
