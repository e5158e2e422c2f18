import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheKey, KeyComponents } from '../fingerprint/cachekey.js';
import { writeFileAtomic } from './atomic.js';

/** The last key a state was computed or served with, for change reasons. */
export interface LatestRecord {
  key: CacheKey;
  components: KeyComponents;
}

/**
 * Each task's last key (runs/.cache/latest.json) and each such key's components
 * (latest-components.json), in two files: a no-op run or plan needs only the keys (is this the
 * key it had?), and reads the components, the bulk, only to say why a state reruns. Both are read
 * on first use and written only when a key changed. The older forms (a record per task with its
 * components; keys and components in one file) are read too.
 */
export class LatestStore {
  private keys?: Record<string, string>;
  private components?: Record<string, KeyComponents>;
  private readonly added: Record<string, KeyComponents> = {};
  private dirty = false;

  constructor(private readonly dir: string) {}

  get(taskId: string): LatestRecord | undefined {
    const key = this.loadKeys()[taskId];
    if (!key) return undefined;
    const components = () => this.added[key] ?? this.loadComponents()[key];
    // a key whose components are gone (a damaged file) is no previous record at all
    if (this.components && !components()) return undefined;
    return {
      key: key as CacheKey,
      get components() {
        return components()!;
      },
    };
  }

  set(taskId: string, rec: LatestRecord): void {
    // the key is the digest of its components: the same key is the same record
    const keys = this.loadKeys();
    if (keys[taskId] === rec.key) return;
    keys[taskId] = rec.key;
    this.added[rec.key] = rec.components;
    this.dirty = true;
  }

  /** The keys some task last had. */
  named(): Set<string> {
    return new Set(Object.values(this.loadKeys()));
  }

  save(): void {
    if (!this.dirty) return;
    const keys = this.loadKeys();
    // only the components of keys some task still names
    const named = new Set(Object.values(keys));
    const all = { ...this.loadComponents(), ...this.added };
    const kept = Object.fromEntries(Object.entries(all).filter(([k]) => named.has(k)));
    writeFileAtomic(join(this.dir, 'latest-components.json'), JSON.stringify(kept));
    writeFileAtomic(join(this.dir, 'latest.json'), JSON.stringify({ keys }));
    this.dirty = false;
  }

  private loadKeys(): Record<string, string> {
    if (this.keys) return this.keys;
    const raw = readJson(join(this.dir, 'latest.json')) as Record<string, unknown> | undefined;
    this.keys = {};
    if (raw && typeof raw.keys === 'object' && raw.keys !== null) {
      this.keys = raw.keys as Record<string, string>;
      // the one-file form held the components beside the keys (rewritten in two files once)
      if (raw.components && typeof raw.components === 'object') {
        this.components = raw.components as Record<string, KeyComponents>;
        this.dirty = true;
      }
    } else if (raw) {
      this.components = {};
      this.dirty = true;
      for (const [task, rec] of Object.entries(raw as Record<string, LatestRecord>)) {
        this.keys[task] = rec.key;
        this.components[rec.key] = rec.components;
      }
    }
    return this.keys;
  }

  private loadComponents(): Record<string, KeyComponents> {
    this.loadKeys();
    this.components ??= (readJson(join(this.dir, 'latest-components.json')) as Record<string, KeyComponents> | undefined) ?? {};
    return this.components;
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
