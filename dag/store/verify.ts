import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileSha256 } from '../fingerprint/digest.js';
import { latestOutcomes, readLedger, unparseableLedgerLines, type LedgerEntry } from './runs.js';

export interface VerifyProblem {
  state: string;
  path: string;
  problem: string;
}

/** A file's sha256, or undefined when it is missing. */
export type Hasher = (absPath: string) => Promise<string | undefined>;

const rehash: Hasher = async (abs) => (existsSync(abs) ? fileSha256(abs) : undefined);

/** The published files of one ledger entry that are missing or whose bytes no longer match. */
export async function entryProblems(runDir: string, e: LedgerEntry, hash: Hasher = rehash, first = false): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  for (const o of e.outputs ?? []) {
    const actual = await hash(join(runDir, o.path));
    if (actual === undefined) problems.push({ state: e.state, path: o.path, problem: 'missing' });
    else if (actual !== o.sha256) problems.push({ state: e.state, path: o.path, problem: `sha256 ${actual} != ledger ${o.sha256}` });
    if (first && problems.length) break;
  }
  return problems;
}

/** Rehashes every published output of a run against its ledger. */
export async function verifyRun(runDir: string): Promise<{ files: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let files = 0;
  // a line that is not a record could have been any record: the ledger no longer vouches for the run
  for (const bad of unparseableLedgerLines(runDir)) {
    problems.push({ state: '(ledger)', path: `ledger.jsonl:${bad.line}`, problem: `line ${bad.line} is not a ledger record (torn or edited): ${JSON.stringify(bad.text.slice(0, 80))}` });
  }
  for (const e of latestOutcomes(readLedger(runDir)).values()) {
    if (!isPublished(e)) continue;
    files += e.outputs?.length ?? 0;
    problems.push(...(await entryProblems(runDir, e)));
  }
  return { files, problems };
}

export function isPublished(e: LedgerEntry): boolean {
  return e.action === 'ran' || e.action === 'cached' || e.action === 'staged';
}
