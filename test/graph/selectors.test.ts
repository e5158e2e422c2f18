// Selectors (a state id, a glob, segment:X, +X, X+) and the scope of --from and --until, as pure functions.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scopeBetween } from '../../dag/graph/select.js';
import { resolveSelector, resolveSelectors } from '../../dag/graph/selectors.js';
import { fromSplit } from '../../dag/plan/plan.js';
import { DagError, type Diagnostic } from '../../dag/project/diagnostics.js';
import { DIAMOND, TempCopies } from '../fixtures/materialize.js';
import { compileClean } from './diagnose.js';

const temp = new TempCopies();
const two = compileClean(temp.copy('two-segments')); // the diamond (fx.S0..S4) and gy.S0
const cp = compileClean(DIAMOND);
const three = compileClean(withSegmentGx(temp.copy('two-segments'))); // fx, gx and gy

/** Adds segment gx (a copy of gy.S0 as gx.S0), one typo away from gy. */
function withSegmentGx(root: string): string {
  const gy = join(root, 'states', 'gy');
  mkdirSync(join(root, 'states', 'gx'));
  writeFileSync(join(root, 'states', 'gx', 'S0_codes.yaml'), readFileSync(join(gy, 'S0_codes.yaml'), 'utf8').replaceAll('gy', 'gx'));
  writeFileSync(join(root, 'states', 'gx', 'S0_codes.sql'), readFileSync(join(gy, 'S0_codes.sql'), 'utf8').replaceAll('gy', 'gx'));
  return root;
}
afterAll(temp.removeAll);

/** The one diagnostic `f` throws as a DagError. */
function refusal(f: () => unknown): Diagnostic {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(DagError);
    const [d, ...more] = (err as DagError).diagnostics;
    expect(more).toEqual([]);
    return d!;
  }
  throw new Error('expected a DagError');
}

describe('selectors', () => {
  it('an id or a short id selects that state', () => {
    expect(resolveSelector(cp, 'fx.S3', '--from')).toEqual(['fx.S3']);
    expect(resolveSelector(cp, 'S3', '--from')).toEqual(['fx.S3']);
  });

  it('a glob selects every id it matches, in execution order', () => {
    expect(resolveSelector(two, 'fx.*', 'argument')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(resolveSelector(two, '*.S0', 'argument')).toEqual(['fx.S0', 'gy.S0']);
    expect(resolveSelector(two, '*', 'argument')).toEqual(two.order);
  });

  it('a glob treats . and other characters as themselves', () => {
    expect(refusal(() => resolveSelector(cp, 'fxS*', '--until')).code).toBe('no-match');
  });

  it('segment:X selects the states whose id starts with X.', () => {
    expect(resolveSelector(two, 'segment:gy', '--from')).toEqual(['gy.S0']);
    expect(resolveSelector(two, 'segment:fx', '--from')).toHaveLength(5);
  });

  it('+X adds everything upstream, X+ everything downstream, +X+ both', () => {
    expect(resolveSelector(cp, '+fx.S3', '--until')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3']);
    expect(resolveSelector(cp, 'fx.S1+', '--from')).toEqual(['fx.S1', 'fx.S3', 'fx.S4']);
    expect(resolveSelector(cp, '+fx.S1+', '--from')).toEqual(['fx.S0', 'fx.S1', 'fx.S3', 'fx.S4']);
    expect(resolveSelector(two, '+segment:gy+', '--from')).toEqual(['gy.S0']); // it reads a file only
    expect(resolveSelector(two, 'fx.S0+', '--from')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(resolveSelector(cp, 'S2+', '--from')).toEqual(['fx.S2', 'fx.S3', 'fx.S4']);
  });

  it('several selectors select their union, each state once', () => {
    expect(resolveSelectors(two, ['fx.S2', 'fx.S1', '*.S0', 'fx.S1+'], '--from')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4', 'gy.S0']);
  });

  it('a selector matching nothing is refused, naming it, with the ids or segments close to it', () => {
    const glob = refusal(() => resolveSelector(two, 'fz.*', '--from'));
    expect(glob).toMatchObject({ code: 'no-match', file: '(command line)' });
    expect(glob.message).toBe('--from fz.*: no state id matches fz.*; did you mean fx.*? (segments: fx, gy)');
    expect(refusal(() => resolveSelector(two, 'FX.S*', '--from')).message).toContain('did you mean fx.S0, fx.S1');
    const segment = refusal(() => resolveSelector(two, 'segment:gz', '--until'));
    expect(segment).toMatchObject({ code: 'no-match' });
    expect(segment.message).toBe("--until segment:gz: no segment 'gz'; did you mean segment:gy? (segments: fx, gy)");
    // a segment of another case is the one meant, not also the ones a typo away
    expect(refusal(() => resolveSelector(three, 'segment:GY', '--from')).message).toBe("--from segment:GY: no segment 'GY'; did you mean segment:gy? (segments: fx, gx, gy)");
    expect(refusal(() => resolveSelector(three, 'segment:gz', '--from')).message).toContain('did you mean segment:gx, segment:gy?');
    const id = refusal(() => resolveSelector(cp, '+fx.S22', '--until'));
    expect(id).toMatchObject({ code: 'unknown-state' });
    expect(id.message).toBe("--until +fx.S22: no state 'fx.S22'; did you mean fx.S2?");
    expect(refusal(() => resolveSelector(two, 'S0+', '--from')).message).toMatch(/'S0' is ambiguous: it could be fx\.S0, gy\.S0/);
  });

  it('text that is no selector is refused with the grammar', () => {
    for (const text of ['+', '++', 'fx.S1++', 'fx+S1']) {
      const d = refusal(() => resolveSelector(cp, text, 'argument'));
      expect(d.code, text).toBe('bad-selector');
      expect(d.fix).toContain('segment:5B');
    }
  });
});

describe('the scope of --from and --until', () => {
  it('is downstream of some --from state and upstream of some --until state', () => {
    expect([...scopeBetween(cp, ['fx.S1'], ['fx.S3'])]).toEqual(['fx.S1', 'fx.S3']);
    expect([...scopeBetween(cp, ['fx.S1', 'fx.S2'], undefined)]).toEqual(['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect([...scopeBetween(cp, undefined, ['fx.S1', 'fx.S2'])]).toEqual(['fx.S0', 'fx.S1', 'fx.S2']);
    expect([...scopeBetween(cp, undefined, undefined)]).toEqual(cp.order);
    expect(scopeBetween(cp, ['fx.S2'], ['fx.S1']).size).toBe(0);
  });

  it('several --from states force the union of their downstream, each naming a --from state it descends from', () => {
    const split = fromSplit(cp, ['fx.S2', 'fx.S1'], 'base', new Map());
    expect(split.states).toEqual(['fx.S1', 'fx.S2']);
    expect([...split.forced.keys()].sort()).toEqual(['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(split.forced.get('fx.S1')).toBe('fx.S1');
    expect(split.forced.get('fx.S2')).toBe('fx.S2');
    expect(['fx.S1', 'fx.S2']).toContain(split.forced.get('fx.S4'));
    // a --from state downstream of another is still forced by its own name
    expect(fromSplit(cp, ['fx.S1', 'fx.S3'], 'base', new Map()).forced.get('fx.S3')).toBe('fx.S3');
  });
});
