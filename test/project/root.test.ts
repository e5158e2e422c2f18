import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DagError } from '../../dag/project/diagnostics.js';
import { findRoot } from '../../dag/project/root.js';
import { TempCopies } from '../fixtures/materialize.js';

// outer/ is the diamond; outer/vendor/inner/ is a second project nested inside it.
const temp = new TempCopies();
const outer = temp.copy();
const deep = join(outer, 'states', 'fx', 'deep', 'er');
const inner = join(outer, 'vendor', 'inner');
const innerDeep = join(inner, 'states', 'x');
mkdirSync(deep, { recursive: true });
mkdirSync(innerDeep, { recursive: true });
writeFileSync(join(inner, 'dag.yaml'), 'name: inner\n');
const empty = mkdtempSync(join(tmpdir(), 'dag-no-project-'));
afterAll(() => {
  temp.removeAll();
  rmSync(empty, { recursive: true, force: true });
});

function noProject(fn: () => unknown): DagError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DagError);
    return err as DagError;
  }
  throw new Error('expected a DagError');
}

describe('findRoot', () => {
  it('is the folder itself when it holds dag.yaml', () => {
    expect(findRoot(outer)).toBe(outer);
  });

  it('walks up from a nested subfolder to the nearest dag.yaml', () => {
    expect(findRoot(deep)).toBe(outer);
    expect(findRoot(join(outer, 'states'))).toBe(outer);
  });

  it('picks the nearest project when projects nest', () => {
    expect(findRoot(innerDeep)).toBe(inner);
    expect(findRoot(inner)).toBe(inner);
    expect(findRoot(join(outer, 'vendor'))).toBe(outer);
  });

  it('ignores a folder named dag.yaml', () => {
    const fake = join(outer, 'vendor', 'fake');
    mkdirSync(join(fake, 'dag.yaml'), { recursive: true });
    expect(findRoot(fake)).toBe(outer);
  });

  it('takes an explicit --root, relative to the start folder, over discovery', () => {
    expect(findRoot(innerDeep, outer)).toBe(outer);
    expect(findRoot(deep, '../../../..')).toBe(outer);
    expect(findRoot(outer, 'vendor/inner')).toBe(inner);
  });

  it('an explicit --root without dag.yaml is a no-project error, even inside a project', () => {
    const err = noProject(() => findRoot(outer, 'states'));
    expect(err.diagnostics).toHaveLength(1);
    expect(err.diagnostics[0]!.code).toBe('no-project');
    expect(err.diagnostics[0]!.message).toContain('--root states');
    expect(err.exitCode).toBe(2);
  });

  it('no dag.yaml in the folder or any parent is a no-project error', () => {
    const err = noProject(() => findRoot(empty));
    expect(err.diagnostics.map((d) => d.code)).toEqual(['no-project']);
    expect(err.diagnostics[0]!.file).toBe(empty);
    expect(err.diagnostics[0]!.fix).toContain('--root');
  });
});
