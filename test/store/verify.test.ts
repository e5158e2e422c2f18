// `dag verify`'s core (ORCHESTRATOR.md §11): every published output of a run, rehashed against the ledger.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LEDGER, type LedgerEntry } from '../../dag/store/runs.js';
import { verifyRun } from '../../dag/store/verify.js';

const made: string[] = [];
/** A ledger line, as ORCHESTRATOR.md §6 describes the file: one JSON object per line. */
const appendLedger = (dir: string, e: LedgerEntry) => appendFileSync(join(dir, LEDGER), JSON.stringify(e) + '\n');
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A run folder whose ledger records `files` (path -> content) as fx.S1's outputs. */
function fakeRun(files: Record<string, string>, action: LedgerEntry['action'] = 'ran'): string {
  const dir = mkdtempSync(join(tmpdir(), 'dag-store-verify-'));
  made.push(dir);
  const outputs = Object.entries(files).map(([path, text]) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
    return { dataset: path.split('/').at(-1)!.split('.')[0]!, path, template: dirname(path), sha256: createHash('sha256').update(text).digest('hex'), bytes: text.length };
  });
  appendLedger(dir, { ts: '2026-01-01T00:00:00.000Z', state: 'fx.S1', action, reason: 'new', seconds: 1, outputs });
  return dir;
}

describe('verifyRun', () => {
  it('passes a run whose files match the ledger', async () => {
    const dir = fakeRun({ 'data/a/x.json': '{"a":1}\n', 'data/b/y.json': '[]\n' });
    expect(await verifyRun(dir)).toEqual({ files: 2, problems: [] });
  });

  it('names a changed file and a missing one', async () => {
    const dir = fakeRun({ 'data/a/x.json': '{"a":1}\n', 'data/b/y.json': '[]\n' });
    writeFileSync(join(dir, 'data/a/x.json'), '{"a":2}\n');
    rmSync(join(dir, 'data/b/y.json'));
    const { files, problems } = await verifyRun(dir);
    expect(files).toBe(2);
    expect(problems).toEqual([
      { state: 'fx.S1', path: 'data/a/x.json', problem: expect.stringMatching(/^sha256 [0-9a-f]{64} != ledger [0-9a-f]{64}$/) },
      { state: 'fx.S1', path: 'data/b/y.json', problem: 'missing' },
    ]);
  });

  it('only checks the latest outcome of each state', async () => {
    const dir = fakeRun({ 'data/a/x.json': 'old\n' });
    rmSync(join(dir, 'data/a/x.json'));
    appendLedger(dir, { ts: '2026-01-01T00:00:01.000Z', state: 'fx.S1', action: 'failed', reason: 'boom', seconds: 1 });
    expect(await verifyRun(dir)).toEqual({ files: 0, problems: [] });
  });
});
