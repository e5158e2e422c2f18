import { valueText } from '../project/overrides.js';
import type { SweepCandidate, SweepRecord } from '../store/sweeps.js';
import { out, table } from './context.js';

const f = (v: number | null) => (v === null ? '-' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : Number(v.toFixed(4)).toString());

/** A candidate's values, `pointer=value` each (the file named only when the grid spans several). */
export function parametersText(c: SweepCandidate): string {
  const files = new Set(c.overrides.map((o) => o.file));
  return c.overrides.map((o) => `${files.size > 1 ? o.file + '#' : ''}${o.pointer}=${valueText(o.value)}`).join(' ');
}

/** The ranking: rank, candidate, parameters, hard fails, B+ misses, distance, time, runs. */
export function rankingTable(rec: SweepRecord): string {
  const byId = new Map(rec.candidates.map((c) => [c.id, c]));
  return table(
    ['RANK', 'CANDIDATE', 'PARAMETERS', 'HARD FAILS', 'B+ MISSES', 'DISTANCE', 'SECONDS', 'RUN'],
    rec.ranking.map((r) => [String(r.rank), r.candidate, parametersText(byId.get(r.candidate)!), r.measured ? String(r.hard_fails) : 'unmeasured', r.measured ? String(r.bplus_misses) : '-', r.measured ? f(r.distance) : '-', r.seconds.toFixed(1), r.runs.join(',')]),
  );
}

/**
 * A sweep's candidates side by side, in rank order (unfinished ones after): each grid pointer's
 * value, then every gate's value with its status when it is not PASS, then the ranking.
 */
export function showSweep(rec: SweepRecord): void {
  const rank = new Map(rec.ranking.map((r) => [r.candidate, r]));
  const order = [...rec.candidates].sort((a, b) => (rank.get(a.id)?.rank ?? Infinity) - (rank.get(b.id)?.rank ?? Infinity));
  out(`sweep ${rec.sweep_id} (${rec.status}, created ${rec.created_utc.replace('T', ' ').slice(0, 19)}): ${rec.candidates.length} candidates x ${rec.request.seeds.length} seed(s)${rec.request.set.length ? `; --set ${rec.request.set.map((o) => `${o.file}#${o.pointer}=${valueText(o.value)}`).join(' ')}` : ''}`);
  const params = rec.grid.map((a) => [`${a.file}#${a.pointer}`, ...order.map((c) => valueText(c.overrides.find((o) => o.file === a.file && o.pointer === a.pointer)?.value))]);
  const gateIds = [...new Set(order.flatMap((c) => Object.keys(rank.get(c.id)?.gates ?? {})))].sort();
  const gates = gateIds.map((id) => [
    id,
    ...order.map((c) => {
      const g = rank.get(c.id)?.gates[id];
      return !g ? '-' : g.status === 'PASS' ? f(g.value) : g.status === 'PENDING' ? 'PENDING' : `${f(g.value)} ${g.status}`;
    }),
  ]);
  const summary = [
    ['rank', ...order.map((c) => (rank.has(c.id) ? String(rank.get(c.id)!.rank) : 'unfinished'))],
    ['hard fails / B+ misses', ...order.map((c) => (rank.has(c.id) ? `${rank.get(c.id)!.hard_fails} / ${rank.get(c.id)!.bplus_misses}` : '-'))],
    ['distance', ...order.map((c) => (rank.has(c.id) ? f(rank.get(c.id)!.distance) : '-'))],
    ['run', ...order.map((c) => c.runs.map((r) => r.run_id.slice(0, 8)).join(',') || '-')],
  ];
  // a gate no candidate moves (an upstream segment's, say) is counted, not shown
  const moved = gates.filter((row) => new Set(row.slice(1)).size > 1);
  out(table(['', ...order.map((c) => c.id)], [...params, ...summary, ...moved]));
  if (moved.length < gates.length) out(`(${gates.length - moved.length} more gates have one value in every candidate; dag sweep --show ${rec.sweep_id} --json lists them)`);
}
