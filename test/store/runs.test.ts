// The ledger (ORCHESTRATOR.md §6): one JSON line per state outcome, appended durably; a line torn by
// a crash is ignored, and must not take the next record down with it.
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromStatesOf, latestOutcomes, LEDGER, LedgerWriter, listRuns, newRunId, readLedger, readReceipt, RUN_ID, writeReceipt, type LedgerEntry, type RunReceipt } from '../../dag/store/runs.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
function runDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dag-store-runs-'));
  made.push(d);
  return d;
}

/** Appends entries the way a run does: one writer held open, closed at the end. */
function appendLedger(dir: string, ...entries: LedgerEntry[]): void {
  const w = new LedgerWriter(dir);
  try {
    for (const e of entries) w.append(e);
  } finally {
    w.close();
  }
}

const entry = (state: string, action: LedgerEntry['action'], extra: Partial<LedgerEntry> = {}): LedgerEntry => ({ ts: '2026-01-01T00:00:00.000Z', state, action, reason: 'new', seconds: 0.5, ...extra });

describe('readLedger', () => {
  it('reads nothing from a run without a ledger', () => {
    expect(readLedger(runDir())).toEqual([]);
  });

  it('reads back what LedgerWriter wrote, in order, one line each', () => {
    const dir = runDir();
    const a = entry('fx.S0', 'ran', { outputs: [{ dataset: 'regions_fx', path: 'data/r/regions_fx.parquet', template: 'data/r', sha256: 'a'.repeat(64), bytes: 10, rows: 4 }] });
    const b = entry('fx.S1', 'failed', { error: { message: 'fx.S1: boom', step: 'draw' } });
    appendLedger(dir, a, b);
    expect(readLedger(dir)).toEqual([a, b]);
    const text = readFileSync(join(dir, LEDGER), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(2);
  });

  it('ignores a torn last line (a crash mid-append) and blank lines', () => {
    const dir = runDir();
    const a = entry('fx.S0', 'ran');
    const b = entry('fx.S1', 'ran');
    const full = JSON.stringify(entry('fx.S2', 'ran'));
    writeFileSync(join(dir, LEDGER), `${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n${full.slice(0, full.length - 7)}`);
    expect(readLedger(dir)).toEqual([a, b]);
  });

  it('keeps a line appended after a torn one (a resumed run must not lose its first record)', () => {
    const dir = runDir();
    const a = entry('fx.S0', 'ran');
    writeFileSync(join(dir, LEDGER), JSON.stringify(a) + '\n');
    const torn = JSON.stringify(entry('fx.S1', 'ran'));
    appendFileSync(join(dir, LEDGER), torn.slice(0, 40)); // the crash: no newline
    const next = entry('fx.S1', 'ran', { reason: 'resumed' });
    appendLedger(dir, next);
    expect(readLedger(dir)).toEqual([a, next]);
  });
});

describe('latestOutcomes', () => {
  it('keeps the last outcome per state and scenario', () => {
    const out = latestOutcomes([
      entry('fx.S1', 'failed'),
      entry('fx.S2', 'ran', { scenario: 'a' }),
      entry('fx.S1', 'ran'),
      entry('fx.S2', 'skipped', { scenario: 'b' }),
    ]);
    expect([...out.keys()].sort()).toEqual(['fx.S1', 'fx.S2@a', 'fx.S2@b']);
    expect(out.get('fx.S1')!.action).toBe('ran');
    expect(out.get('fx.S2@b')!.action).toBe('skipped');
  });
});

describe('receipts and run folders', () => {
  const receipt = (id: string, created: string): RunReceipt => ({
    run_id: id, created_utc: created, finished_utc: null, status: 'running', seed: 42, scenarios: ['baseline'], profile: null, targets: [],
    parameter_hash: 'p'.repeat(64), manifest_fingerprint: 'm'.repeat(64), staged_from_run_id: null, from_states: [], group_id: null,
    engine_version: null, dag_version: '0.1.0', git_commit: null, duckdb_version: '1.0.0', project: 'x',
  });

  it('the --from states of a receipt: several, none, or the one an older receipt names', () => {
    const r = receipt(newRunId(), '2026-01-01T00:00:00.000Z');
    expect(fromStatesOf({ ...r, from_states: ['fx.S1', 'fx.S2'] })).toEqual(['fx.S1', 'fx.S2']);
    expect(fromStatesOf(r)).toBeUndefined();
    const { from_states: _, ...older } = r;
    expect(fromStatesOf({ ...older, from_state: 'fx.S2' })).toEqual(['fx.S2']);
    expect(fromStatesOf({ ...older, from_state: null })).toBeUndefined();
  });

  it('new run ids are 32 lowercase hex and differ', () => {
    const ids = new Set(Array.from({ length: 50 }, newRunId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(RUN_ID);
  });

  it('writeReceipt replaces the receipt whole and leaves no temporary file', () => {
    const runs = runDir();
    const id = newRunId();
    const dir = join(runs, id);
    mkdirSync(dir, { recursive: true });
    writeReceipt(dir, receipt(id, '2026-01-01T00:00:00.000Z'));
    writeReceipt(dir, { ...receipt(id, '2026-01-01T00:00:00.000Z'), status: 'failed' });
    expect(readReceipt(dir)!.status).toBe('failed');
    expect(readdirSync(dir)).toEqual(['run_receipt.json']);
  });

  it('listRuns lists folders with a 32-hex name and a readable receipt, newest first', () => {
    const runs = runDir();
    const older = newRunId();
    const newer = newRunId();
    for (const [id, created] of [[older, '2026-01-01T00:00:00.000Z'], [newer, '2026-01-02T00:00:00.000Z']] as const) {
      mkdirSync(join(runs, id));
      writeReceipt(join(runs, id), receipt(id, created));
    }
    mkdirSync(join(runs, newRunId())); // no receipt: not a run (e.g. half-created)
    mkdirSync(join(runs, '.cache'));
    mkdirSync(join(runs, 'not-a-run'));
    writeReceipt(join(runs, 'not-a-run'), receipt('not-a-run', '2026-01-03T00:00:00.000Z'));
    expect(listRuns(runs).map((r) => r.id)).toEqual([newer, older]);
  });
});

