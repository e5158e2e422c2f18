import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';

/** Labels that name one run each: labelling another run moves them. */
export const EXCLUSIVE_LABELS = ['authority', 'candidate', 'last-good'];
export const LABEL_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;

/** runs/labels.json: label -> run ids. One file, rewritten atomically, so a move is one step. */
export class LabelStore {
  private readonly file: string;
  private labels: Record<string, string[]>;

  constructor(runsDir: string) {
    this.file = join(runsDir, 'labels.json');
    try {
      this.labels = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string[]>;
    } catch {
      this.labels = {};
    }
  }

  of(runId: string): string[] {
    return Object.keys(this.labels)
      .filter((l) => this.labels[l]!.includes(runId))
      .sort();
  }

  /** Every label some run has, sorted. */
  names(): string[] {
    return Object.keys(this.labels).sort();
  }

  runsWith(label: string): string[] {
    return this.labels[label] ?? [];
  }

  /** Adds `label` to `runId`; an exclusive label leaves the run that had it. Returns that run. */
  add(runId: string, label: string): string | undefined {
    const had = this.labels[label] ?? [];
    let moved: string | undefined;
    if (EXCLUSIVE_LABELS.includes(label)) {
      moved = had.find((r) => r !== runId);
      this.labels[label] = [runId];
    } else if (!had.includes(runId)) this.labels[label] = [...had, runId];
    this.save();
    return moved;
  }

  remove(runId: string, label: string): boolean {
    const had = this.labels[label] ?? [];
    if (!had.includes(runId)) return false;
    this.labels[label] = had.filter((r) => r !== runId);
    if (this.labels[label]!.length === 0) delete this.labels[label];
    this.save();
    return true;
  }

  /** Forgets a deleted run. */
  forget(runId: string): void {
    let changed = false;
    for (const l of Object.keys(this.labels)) {
      if (this.labels[l]!.includes(runId)) {
        this.labels[l] = this.labels[l]!.filter((r) => r !== runId);
        if (this.labels[l]!.length === 0) delete this.labels[l];
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private save(): void {
    writeFileAtomic(this.file, JSON.stringify(this.labels, null, 2) + '\n');
  }
}
