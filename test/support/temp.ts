import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh temporary folder under the OS temp dir, removed by `removeTemps()`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dag-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder `tempDir` made so far. */
export function removeTemps(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
