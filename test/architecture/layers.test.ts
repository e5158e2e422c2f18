// The layers of dag/ (issue 14): a file imports only from its own layer or one below it, so that
// each layer can be read, tested and replaced without the ones above. Type-only imports count too.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

export const LAYERS = ['project', 'contracts', 'graph', 'fingerprint', 'plan', 'store', 'exec', 'log', 'ui', 'cli'] as const;
const DAG = fileURLToPath(new URL('../../dag', import.meta.url));
/** Folders of the dag package that hold no source: its bin (the launcher) and its build output. */
const NOT_SOURCE = ['bin', 'dist', 'node_modules'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (dir === DAG && NOT_SOURCE.includes(e.name) ? [] : sources(join(dir, e.name))) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `from './x.js'`, `from "../y/z.js"` and `import('../w.js')` specifiers of a TypeScript file. */
export function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
}

/** `a/b.ts -> ../c/d.js` for every import of a layer above the importing file's. */
export function upwardImports(root: string): string[] {
  const out: string[] = [];
  for (const file of sources(root)) {
    const rel = relative(root, file).split(sep).join('/');
    const layer = rel.split('/')[0]!;
    const own = LAYERS.indexOf(layer as (typeof LAYERS)[number]);
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = posix.normalize(posix.join(posix.dirname(rel), spec)).split('/')[0]!;
      const at = LAYERS.indexOf(target as (typeof LAYERS)[number]);
      if (own < 0 || at > own) out.push(`${rel} -> ${spec}`);
    }
  }
  return out.sort();
}

describe('the layers of dag/', () => {
  it('every folder of dag/ is a layer', () => {
    const folders = readdirSync(DAG, { withFileTypes: true }).filter((e) => e.isDirectory() && !NOT_SOURCE.includes(e.name)).map((e) => e.name);
    expect(folders.filter((f) => !(LAYERS as readonly string[]).includes(f))).toEqual([]);
  });

  it(`no file imports from a layer above its own (${LAYERS.join(' < ')})`, () => {
    expect(upwardImports(DAG)).toEqual([]);
  });

  it('the check sees an upward import, static or dynamic, type-only too', () => {
    expect(relativeImports("import type { A } from '../exec/tasks.js';\nconst m = await import('../cli/context.js');\nimport { x } from 'node:fs';")).toEqual(['../exec/tasks.js', '../cli/context.js']);
    const tmp = mkdtempSync(join(tmpdir(), 'dag-layers-'));
    try {
      mkdirSync(join(tmp, 'plan'));
      mkdirSync(join(tmp, 'exec'));
      writeFileSync(join(tmp, 'plan', 'plan.ts'), "import type { Task } from '../exec/tasks.js';\n");
      writeFileSync(join(tmp, 'exec', 'tasks.ts'), "import { x } from '../plan/plan.js';\n");
      expect(upwardImports(tmp)).toEqual(['plan/plan.ts -> ../exec/tasks.js']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
