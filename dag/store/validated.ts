import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { contentDigest } from '../fingerprint/digest.js';
import type { CompiledProject } from '../graph/compile.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Table-schema'd input files already found valid, by (file, schema, content digest, schema
 * digest), in runs/.cache/validated.json: a run checks a big CSV once, not every time.
 */
export class ValidatedInputs {
  private readonly file: string;
  private entries: Set<string>;
  private dirty = false;

  constructor(runsDir: string) {
    this.file = join(runsDir, '.cache', 'validated.json');
    try {
      this.entries = new Set(JSON.parse(readFileSync(this.file, 'utf8')) as string[]);
    } catch {
      this.entries = new Set();
    }
  }

  private id(cp: CompiledProject, key: string): string {
    const [file, ref] = key.split('|') as [string, string];
    const schemaFile = ref.split('#')[0]!;
    const root = cp.project.root;
    return `${key}|${contentDigest(posix.join(root, file), file)}|${contentDigest(posix.join(root, schemaFile), schemaFile)}`;
  }

  has(cp: CompiledProject, key: string): boolean {
    return this.entries.has(this.id(cp, key));
  }

  add(cp: CompiledProject, key: string): void {
    this.entries.add(this.id(cp, key));
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    try {
      writeFileAtomic(this.file, JSON.stringify([...this.entries].sort()));
    } catch {
      /* no runs folder yet: the next run checks again */
    }
  }
}
