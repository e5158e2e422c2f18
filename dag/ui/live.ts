// The live feed of `dag ui`: for each page that connects, a snapshot of the runs and of every
// running run's ledger and events, then what was appended to them since, read by polling the
// files (a run started from any terminal shows up; a late page misses nothing, since each page
// reads from the offsets its own snapshot ended at).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runRows, type RunRow } from '../store/listing.js';
import { LEDGER, listRuns, RECEIPT, type LedgerEntry } from '../store/runs.js';
import { RUN_LOG, runEventsOf, type RunEvent } from './model.js';

export type LiveMessage =
  | { type: 'snapshot'; runs: RunRow[]; live: Record<string, { ledger: LedgerEntry[]; events: RunEvent[] }> }
  | { type: 'runs'; runs: RunRow[] }
  | { type: 'ledger'; run: string; entries: LedgerEntry[] }
  | { type: 'events'; run: string; events: RunEvent[] };

/** The complete lines of `file` past `offset`, and the offset after the last of them. */
function readLines(file: string, offset: number): { text: string; offset: number } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { text: '', offset };
  }
  if (size <= offset) return { text: '', offset: size < offset ? 0 : offset };
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    const end = buf.subarray(0, n).lastIndexOf(0x0a);
    if (end < 0) return { text: '', offset };
    return { text: buf.subarray(0, end + 1).toString('utf8'), offset: offset + end + 1 };
  } finally {
    closeSync(fd);
  }
}

const mtime = (f: string) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const size = (f: string) => statSync(f, { throwIfNoEntry: false })?.size ?? 0;

/** One page's view of the runs folder: what it was sent, so that each poll sends only what is new. */
export class LiveFeed {
  private offsets = new Map<string, { ledger: number; log: number }>();
  /** Runs followed until they ended, and read once more after: not read again. */
  private ended = new Set<string>();
  private signature = '';

  constructor(private readonly runsDir: string) {}

  /** The runs folder's state in one string: a change of it means the runs table changed. */
  private signatureNow(): string {
    const runs = listRuns(this.runsDir);
    return [mtime(join(this.runsDir, 'labels.json')), ...runs.map((r) => `${r.id}:${mtime(join(r.dir, RECEIPT))}:${size(join(r.dir, LEDGER))}`)].join('|');
  }

  private read(id: string, dir: string): { ledger: LedgerEntry[]; events: RunEvent[] } {
    const at = this.offsets.get(id) ?? { ledger: 0, log: 0 };
    const l = readLines(join(dir, LEDGER), at.ledger);
    const g = readLines(join(dir, RUN_LOG), at.log);
    this.offsets.set(id, { ledger: l.offset, log: g.offset });
    const ledger = l.text.split('\n').flatMap((line) => {
      try {
        return line.trim() ? [JSON.parse(line) as LedgerEntry] : [];
      } catch {
        return [];
      }
    });
    return { ledger, events: runEventsOf(g.text) };
  }

  snapshot(): LiveMessage {
    this.signature = this.signatureNow();
    const live: Record<string, { ledger: LedgerEntry[]; events: RunEvent[] }> = {};
    for (const r of listRuns(this.runsDir).filter((x) => x.receipt.status === 'running')) live[r.id] = this.read(r.id, r.dir);
    return { type: 'snapshot', runs: runRows(this.runsDir), live };
  }

  /** What changed since the last call (or the snapshot). */
  poll(): LiveMessage[] {
    const out: LiveMessage[] = [];
    // a run followed so far is read once more after its receipt says it ended: its last lines
    const followed = listRuns(this.runsDir).filter((r) => r.receipt.status === 'running' || (this.offsets.has(r.id) && !this.ended.has(r.id)));
    for (const r of followed) {
      const { ledger, events } = this.read(r.id, r.dir);
      if (ledger.length) out.push({ type: 'ledger', run: r.id, entries: ledger });
      if (events.length) out.push({ type: 'events', run: r.id, events });
      if (r.receipt.status !== 'running') this.ended.add(r.id);
    }
    const sig = this.signatureNow();
    if (sig !== this.signature) {
      this.signature = sig;
      out.push({ type: 'runs', runs: runRows(this.runsDir) });
    }
    return out;
  }
}
