import { join } from 'node:path';
import type { Task } from '../graph/tasks.js';
import { DagError, EXIT } from '../project/diagnostics.js';
import { latestOutcomes, readLedger, resolveRun, type LedgerEntry, type RunReceipt } from '../store/runs.js';
import { entryProblems } from '../store/verify.js';
import type { Prepared } from './prepare.js';
import { removeUnpublished } from './publish.js';

/** The run a resume names, found only among the runs of runs/ (id, unique prefix or label), never a path. */
export function priorRun(runsDir: string, text: string): { dir: string; receipt: RunReceipt } {
  const { id, dir, receipt } = resolveRun(runsDir, text);
  if (receipt.status === 'succeeded') throw new DagError([{ code: 'resume-done', file: join(dir, 'run_receipt.json'), message: `run ${id} already succeeded; nothing to resume` }], EXIT.refused);
  return { dir, receipt };
}

/** What a resume makes of the interrupted run's tasks: the ones it keeps, and the ones that rerun and why. */
export interface Resumed {
  kept: { task: Task; entry: LedgerEntry }[];
  rerun: { task: Task; problem: string }[];
}

/**
 * A task the interrupted run published is kept when every file its ledger entry lists still has
 * its digest; any other task's outputs (left by a crash without a ledger record) are removed.
 */
export async function resumeTasks(runDir: string, tasks: readonly Task[], prep: Prepared): Promise<Resumed> {
  const previous = latestOutcomes(readLedger(runDir));
  const out: Resumed = { kept: [], rerun: [] };
  for (const task of tasks) {
    const e = previous.get(task.key);
    if (e && (e.action === 'ran' || e.action === 'cached' || e.action === 'staged')) {
      const [p] = await entryProblems(runDir, e, (abs) => prep.cache.stat.sha256(abs), true);
      if (!p) {
        out.kept.push({ task, entry: e });
        continue;
      }
      out.rerun.push({ task, problem: `${p.path} ${p.problem === 'missing' ? 'is missing' : 'changed after publishing'}` });
    }
    removeUnpublished(runDir, task);
  }
  return out;
}
