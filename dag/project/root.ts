import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DagError } from './diagnostics.js';

export const PROJECT_FILE = 'dag.yaml';

/** The project root: `explicit` if given, else the nearest ancestor of `start` holding dag.yaml. */
export function findRoot(start: string, explicit?: string): string {
  if (explicit !== undefined) {
    const root = resolve(start, explicit);
    if (!existsSync(join(root, PROJECT_FILE)) || !statSync(join(root, PROJECT_FILE)).isFile()) {
      throw new DagError([{ code: 'no-project', file: join(root, PROJECT_FILE), message: `--root ${explicit}: no ${PROJECT_FILE} there`, fix: 'point --root at a folder holding dag.yaml' }]);
    }
    return root;
  }
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE);
    if (existsSync(candidate) && statSync(candidate).isFile()) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new DagError([{ code: 'no-project', file: resolve(start), message: `no ${PROJECT_FILE} in this folder or any parent`, fix: 'run dag inside a project, or pass --root DIR' }]);
}
