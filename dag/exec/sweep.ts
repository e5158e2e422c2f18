import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledProject } from '../graph/compile.js';
import { reportsOfRun } from '../store/report.js';
import { newRunId, readReceipt, runsDirOf, type RunStatus } from '../store/runs.js';
import { isFinished, rankCandidates, scoreCandidate, writeSweep, type RankRow, type SweepCandidate, type SweepRecord } from '../store/sweeps.js';
import type { EventBus } from './events.js';
import { Execution } from './executor.js';
import { defaultBase } from './prepare.js';
import { LocalExecutor } from './runner.js';

/**
 * Runs a sweep's unfinished candidates one after another, each an ordinary run per seed (sharing
 * the cache, so only what a candidate's values touch reruns), with the sweep id as group id and no
 * promotion (a candidate is an experiment: it never moves last-good, so every candidate's --from
 * base stays the one the sweep started with). The record is written before each run starts (its
 * run id in it) and after each ends, so an interrupted sweep resumes: finished candidates are
 * skipped, a run cut short is resumed, the rest start.
 */
export class Sweep {
  private current: Execution | undefined;
  private aborted = false;

  constructor(
    private readonly cp: CompiledProject,
    private readonly rec: SweepRecord,
    private readonly bus: EventBus,
    private readonly onCandidate: (c: SweepCandidate, phase: 'start' | 'end', rec: SweepRecord) => void = () => {},
  ) {}

  abort(): void {
    this.aborted = true;
    this.current?.abort();
  }

  async run(): Promise<SweepRecord> {
    const { cp, rec } = this;
    const runsDir = runsDirOf(cp);
    const req = rec.request;
    // --from without --base: the base is fixed once, per seed, for every candidate
    const bases = new Map<number | null, string | undefined>(req.seeds.map((s) => [s, req.from !== null && req.base === null ? defaultBase(runsDir, s ?? cp.project.config.defaults.seed).id : (req.base ?? undefined)]));
    rec.status = 'running';
    writeSweep(runsDir, rec);
    for (const c of rec.candidates) {
      if (this.aborted) break;
      if (isFinished(c, req.seeds.length)) continue;
      this.onCandidate(c, 'start', rec);
      for (const [i, seed] of req.seeds.entries()) {
        if (this.aborted) break;
        const prior = c.runs[i];
        if (prior && (prior.status === 'succeeded' || prior.status === 'failed')) continue;
        const priorStatus = prior ? readReceipt(join(runsDir, prior.run_id))?.status : undefined;
        if (prior && (priorStatus === 'succeeded' || priorStatus === 'failed')) {
          // it ended after the record was last written (the sweep was killed then)
          c.runs[i] = { ...prior, status: priorStatus };
          continue;
        }
        const resume = priorStatus !== undefined ? prior!.run_id : undefined;
        const runId = resume ?? newRunId();
        c.runs[i] = { seed: seed ?? cp.project.config.defaults.seed, run_id: runId, status: 'running', seconds: prior?.seconds ?? 0 };
        writeSweep(runsDir, rec);
        this.current = new Execution(
          cp,
          {
            targets: req.targets,
            seed: seed ?? undefined,
            scenarios: req.scenarios ?? undefined,
            profile: req.profile ?? undefined,
            overrides: [...req.set, ...c.overrides],
            from: req.from ?? undefined,
            base: bases.get(seed),
            noCache: req.no_cache,
            jobs: req.jobs,
            runId: resume ? undefined : runId,
            resume,
            groupId: rec.sweep_id,
            sweep: { id: rec.sweep_id, candidate: c.id },
            noPromote: true,
            // candidates run here, one after another (sweeping on workers: a later step)
            executor: new LocalExecutor(),
          },
          this.bus,
        );
        const summary = await this.current.run();
        c.runs[i] = { ...c.runs[i]!, status: summary.status, seconds: (prior?.seconds ?? 0) + summary.seconds };
        writeSweep(runsDir, rec);
      }
      if (isFinished(c, req.seeds.length)) {
        rec.ranking = rankFinished(runsDir, rec);
        writeSweep(runsDir, rec);
        this.onCandidate(c, 'end', rec);
      }
    }
    rec.status = this.aborted || rec.candidates.some((c) => !isFinished(c, req.seeds.length)) ? 'interrupted' : 'finished';
    writeSweep(runsDir, rec);
    return rec;
  }
}

/**
 * The ranking of the finished candidates, from their runs' validation reports; a candidate whose
 * runs were pruned since keeps the score it was given when they were there.
 */
export function rankFinished(runsDir: string, rec: SweepRecord): RankRow[] {
  const before = new Map(rec.ranking.map((r) => [r.candidate, r]));
  const rows = rec.candidates
    .filter((c) => isFinished(c, rec.request.seeds.length))
    .map((c) => {
      const dirs = c.runs.map((r) => join(runsDir, r.run_id));
      const old = before.get(c.id);
      if (old && !dirs.every((d) => existsSync(d))) return old;
      return scoreCandidate({
        candidate: c.id,
        runs: c.runs.map((r, i) => {
          const receipt = readReceipt(dirs[i]!)!;
          return { run_id: r.run_id, status: receipt.status as RunStatus, seconds: r.seconds, reports: reportsOfRun({ id: r.run_id, dir: dirs[i]!, receipt }) };
        }),
      });
    });
  return rankCandidates(rows);
}
