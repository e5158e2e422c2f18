import { describe, expect, it } from 'vitest';
import { compileProject } from '../../dag/graph/compile.js';
import { Diagnostics } from '../../dag/project/diagnostics.js';
import { loadProject } from '../../dag/contracts/project.js';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the engine seals what it reads', () => {
  const diags = new Diagnostics();
  const cp = compileProject(loadProject(ROOT, diags)!, diags);

  it('compiles cleanly', () => expect(diags.items).toEqual([]));

  const segments = [...new Set([...cp.states.values()].map((s) => s.segment))];
  // Read by one state and left out of its S0 on purpose: a change to it must not rerun S0 (issue 12:
  // `dag run --from 6B.S3` after a campaign-policy edit stages 6B.S0-S2 and equals a full run;
  // issue 19: a count-law candidate of `dag sweep` reruns 5B from S3, not from S0).
  const ownSeal = new Set(['6B.S3: config/6B/campaign_policy.yaml', '5B.S3: config/5B/count_policy.yaml']);
  it.each(segments)('every file a state of segment %s reads is an input of its S0', (seg) => {
    const s0 = cp.states.get(`${seg}.S0`);
    expect(s0, `segment ${seg} has an S0`).toBeDefined();
    const sealed = new Set(s0!.fileInputs.map((f) => f.file));
    const unsealed = [...cp.states.values()].filter((s) => s.segment === seg).flatMap((s) => s.fileInputs.filter((f) => !sealed.has(f.file)).map((f) => `${s.id}: ${f.file}`)).filter((x) => !ownSeal.has(x));
    expect(unsealed).toEqual([]);
  });

  it.each(segments)('segment %s has one gate state, and every later segment requires its upstream gates', (seg) => {
    expect(cp.gates.get(seg), `segment ${seg} is sealed by a gate`).toBeDefined();
  });

  it('6A.S0 requires 1A (it reads what 1A sealed)', () => {
    expect(cp.states.get('6A.S0')!.requiresPass).toContain('1A');
  });
});
