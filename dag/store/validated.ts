import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { contentDigest } from '../fingerprint/digest.js';
import { sha256Hex } from '../project/canonical.js';
import type { CompiledProject } from '../graph/compile.js';
import { versions } from '../fingerprint/versions.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Input files already found valid against their schema (CSV tables and YAML/JSON documents), by
 * (file, schema ref, the file's content digest, the digest of every contract file, dag's version),
 * in runs/.cache/validated.json: a run checks a big CSV once, and an unchanged prior without ajv.
 * Every contract file counts, since a schema may `$ref` any of them.
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

  private contracts?: string;

  private id(cp: CompiledProject, key: string): string {
    const [file] = key.split('|') as [string, string];
    const root = cp.project.root;
    this.contracts ??= sha256Hex(JSON.stringify([versions(root).dag, ...cp.project.contracts.files.sort().map((f) => [f, contentDigest(posix.join(root, f), f)])]));
    return `${key}|${contentDigest(posix.join(root, file), file)}|${this.contracts}`;
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
