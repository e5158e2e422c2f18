import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileSha256 } from '../fingerprint/digest.js';
import { latestOutcomes, readLedger, type LedgerEntry } from './runs.js';

export interface VerifyProblem {
  state: string;
  path: string;
  problem: string;
}

/** Rehashes every published output of a run against its ledger. */
export async function verifyRun(runDir: string): Promise<{ files: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let files = 0;
  for (const e of latestOutcomes(readLedger(runDir)).values()) {
    if (!isPublished(e)) continue;
    for (const o of e.outputs ?? []) {
      files++;
      const abs = join(runDir, o.path);
      if (!existsSync(abs)) problems.push({ state: e.state, path: o.path, problem: 'missing' });
      else {
        const actual = await fileSha256(abs);
        if (actual !== o.sha256) problems.push({ state: e.state, path: o.path, problem: `sha256 ${actual} != ledger ${o.sha256}` });
      }
    }
  }
  return { files, problems };
}

export function isPublished(e: LedgerEntry): boolean {
  return e.action === 'ran' || e.action === 'cached' || e.action === 'staged';
}
