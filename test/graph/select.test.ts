import { afterAll, describe, expect, it } from 'vitest';
import { ancestorsOf, descendantsOf, rerunScope, rerunScopeOfFile, resolveStateId, selectWithAncestors, statesOfSegment } from '../../dag/graph/select.js';
import { DIAMOND, TempCopies } from '../fixtures/materialize.js';
import { compileClean } from './diagnose.js';

const temp = new TempCopies();
const twoSegmentsDir = temp.copy('two-segments');
afterAll(temp.removeAll);

describe('rerun scope', () => {
  const cp = compileClean(DIAMOND);

  it('a change in a state reruns it and its dependants, in execution order', () => {
    expect(rerunScope(cp, 'fx.S0')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(rerunScope(cp, 'fx.S1')).toEqual(['fx.S1', 'fx.S3', 'fx.S4']);
    expect(rerunScope(cp, 'fx.S2')).toEqual(['fx.S2', 'fx.S3', 'fx.S4']);
  });

  it('honours rerun.scope: self', () => {
    expect(cp.states.get('fx.S4')!.rerun.scope).toBe('self');
    expect(rerunScope(cp, 'fx.S4')).toEqual(['fx.S4']);
  });

  it('stops spreading at a dependant whose triggers ignore input changes', () => {
    const local = compileClean(DIAMOND);
    local.states.get('fx.S3')!.rerun.triggers = ['kernel'];
    expect(rerunScope(local, 'fx.S1')).toEqual(['fx.S1']);
    expect(rerunScope(local, 'fx.S3')).toEqual(['fx.S3', 'fx.S4']);
  });

  it('a changed file reruns its readers and their scopes; the prelude reruns every SQL state', () => {
    expect(rerunScopeOfFile(cp, 'config/params.yaml')).toEqual(['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(rerunScopeOfFile(cp, 'config/regions.csv')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(rerunScopeOfFile(cp, 'states/fx/S4_summary.sql')).toEqual(['fx.S4']);
    expect(rerunScopeOfFile(cp, 'states/_lib/prelude.sql')).toEqual(cp.order);
    expect(rerunScopeOfFile(cp, 'config/unused.yaml')).toEqual([]);
  });
});

describe('selection', () => {
  const cp = compileClean(DIAMOND);

  it('ancestors and descendants follow the edges', () => {
    expect([...ancestorsOf(cp, 'fx.S3')].sort()).toEqual(['fx.S0', 'fx.S1', 'fx.S2']);
    expect([...descendantsOf(cp, 'fx.S1')].sort()).toEqual(['fx.S3', 'fx.S4']);
    expect(ancestorsOf(cp, 'fx.S0').size).toBe(0);
  });

  it('a target brings what it needs, in execution order', () => {
    expect(selectWithAncestors(cp, ['fx.S2'])).toEqual(['fx.S0', 'fx.S2']);
    expect(selectWithAncestors(cp, ['fx.S3'])).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3']);
    expect(selectWithAncestors(cp, ['fx.S2', 'fx.S1'])).toEqual(['fx.S0', 'fx.S1', 'fx.S2']);
    expect(selectWithAncestors(cp, [])).toEqual(cp.order);
  });

  it('filters by segment', () => {
    const two = compileClean(twoSegmentsDir);
    expect(statesOfSegment(two, 'gy')).toEqual(['gy.S0']);
    expect(statesOfSegment(two, 'fx')).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(statesOfSegment(two, undefined)).toEqual(two.order);
  });
});

describe('short state ids', () => {
  const cp = compileClean(DIAMOND);

  it('resolves a full id and a short id that only one segment has', () => {
    expect(resolveStateId(cp, 'fx.S3')).toEqual({ id: 'fx.S3' });
    expect(resolveStateId(cp, 'S3')).toEqual({ id: 'fx.S3' });
  });

  it('names the candidates of an ambiguous short id', () => {
    const two = compileClean(twoSegmentsDir);
    const r = resolveStateId(two, 'S0');
    expect('error' in r && r.error).toMatch(/ambiguous/);
    expect('error' in r && r.error).toContain('fx.S0');
    expect('error' in r && r.error).toContain('gy.S0');
    expect(resolveStateId(two, 'S1')).toEqual({ id: 'fx.S1' });
    expect(resolveStateId(two, 'gy.S0')).toEqual({ id: 'gy.S0' });
  });

  it('an unknown id is an error, with suggestions when some id comes close', () => {
    const r = resolveStateId(cp, 'S9');
    expect('error' in r && r.error).toContain("no state 'S9'");
    expect('error' in r && r.error).not.toContain('did you mean');
    const near = resolveStateId(cp, 'fx.s2');
    expect('error' in near && near.error).toContain('did you mean fx.S2');
  });
});
