// issue 16: `dag prune --yes` deleted a `--seeds` group made minutes before (then `dag report
// --group` failed). The newest complete seed group is kept, and its reason says so; an older
// group is pruned like any superseded run.
import { describe, expect, it } from 'vitest';
import { copyFixture, dagJson, LIFECYCLE_TIMEOUT, tempDir } from './helpers.js';

interface Group {
  group_id: string;
  runs: { run_id: string; status: string }[];
}

describe('prune and --seeds groups', () => {
  it('keeps both runs of the newest `dag run --seeds 5,6` (keep_last 1), and dag report --group still works', { timeout: 3 * LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture({ retention: '{keep_labels: [], keep_last: 1}' });
    const runs = tempDir('runs');
    const old = await dagJson<Group>(root, runs, ['run', '--seeds', '1,2', '--no-promote']);
    const group = await dagJson<Group>(root, runs, ['run', '--seeds', '5,6', '--no-promote']);
    expect(group.runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);

    const result = await dagJson<{ rows: { run: string; action: string; reason: string }[] }>(root, runs, ['prune', '--yes']);
    const row = (id: string) => result.rows.find((r) => r.run === id)!;
    // seed 6 ran last: keep_last 1 keeps it; seed 5 stays for its group
    expect(row(group.runs[0]!.run_id)).toMatchObject({ action: 'KEEP', reason: `seed group ${group.group_id} (the newest complete --seeds group is kept)` });
    expect(row(group.runs[1]!.run_id).action).toBe('KEEP');
    for (const r of old.runs) expect(row(r.run_id)).toMatchObject({ action: 'DELETE', reason: 'superseded (older than the 1 newest succeeded, retention.keep_last)' });

    const report = await dagJson<{ runs: unknown[] }>(root, runs, ['report', '--group', group.group_id]);
    expect(report.runs).toHaveLength(2);
    // issue 16: report --group took only the full id; a prefix and a run of the group name it too
    for (const g of [group.group_id.slice(0, 6), group.runs[1]!.run_id.slice(0, 8)]) {
      const again = await dagJson<{ runs: unknown[] }>(root, runs, ['report', '--group', g]);
      expect(again, g).toEqual(report);
    }
  });
});
