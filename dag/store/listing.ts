import { LabelStore } from './labels.js';
import { lockHolder } from './lock.js';
import { latestOutcomes, listOrphans, listRuns, readLedger } from './runs.js';
import { diskUsage } from './size.js';

/** One line of `dag runs` (and of the dashboard's runs table). */
export interface RunRow {
  id: string;
  created: string;
  seed: number | null;
  /** The receipt's status, `interrupted` for a running receipt whose process is gone, `starting`/`incomplete` for a folder without a receipt. */
  status: string;
  /** The lock holder's pid while the run runs. */
  pid: number | null;
  profile: string | null;
  labels: string[];
  group: string | null;
  bytes: number;
  ran: number;
  cached: number;
  staged: number;
  failed: number;
  seconds: number | null;
}

/**
 * Every run folder of `runsDir`, newest first, as `dag runs` lists them; `group`: only that group's
 * runs, without the orphan folders a killed run left before its receipt.
 */
export function runRows(runsDir: string, group?: string): RunRow[] {
  const labels = new LabelStore(runsDir);
  const runs = listRuns(runsDir).filter((r) => group === undefined || r.receipt.group_id === group);
  const rows: RunRow[] = runs.map((r) => {
    const outcomes = [...latestOutcomes(readLedger(r.dir)).values()];
    const count = (a: string) => outcomes.filter((e) => e.action === a).length;
    const holder = lockHolder(r.dir);
    // a run whose receipt says running but whose process is gone was interrupted
    const status = r.receipt.status === 'running' && holder === undefined ? 'interrupted' : r.receipt.status;
    const end = r.receipt.finished_utc ? Date.parse(r.receipt.finished_utc) : undefined;
    return {
      id: r.id,
      created: r.receipt.created_utc,
      seed: r.receipt.seed as number | null,
      status,
      pid: holder ?? null,
      profile: r.receipt.profile ?? null,
      labels: labels.of(r.id),
      group: r.receipt.group_id,
      bytes: diskUsage(r.dir),
      ran: count('ran'),
      cached: count('cached'),
      staged: count('staged'),
      failed: count('failed'),
      seconds: end !== undefined ? (end - Date.parse(r.receipt.created_utc)) / 1000 : null,
    };
  });
  if (group !== undefined) return rows;
  // folders a killed run left before its receipt: listed (and removed by dag prune), never resumable
  for (const o of listOrphans(runsDir)) {
    const holder = lockHolder(o.dir);
    rows.push({ id: o.id, created: o.modified, seed: null, status: holder !== undefined || o.recent ? 'starting' : 'incomplete', pid: holder ?? null, profile: null, labels: labels.of(o.id), group: null, bytes: diskUsage(o.dir), ran: 0, cached: 0, staged: 0, failed: 0, seconds: null });
  }
  return rows;
}
