import { Option, type Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { DagError, EXIT, type Diagnostic } from '../project/diagnostics.js';
import { MAX_JOBS } from '../project/names.js';
import { parseOverride, parseValue, splitAssignment, splitValues, type Override } from '../project/overrides.js';
import { checkOverrides } from '../graph/overrides.js';
import { runsDirOf } from '../store/runs.js';
import { candidatesOf, isFinished, readSweep, type SweepAxis, type SweepCandidate, type SweepRecord } from '../store/sweeps.js';
import type { ViewMode } from '../log/view.js';
import { globalOptions, openProject, out, printJson } from './context.js';
import { parseInteger, parseSeeds, requestOptions, toRequest, validateInputsOrFail, type RequestFlags } from './request.js';
import { parametersText, rankingTable, showSweep } from './sweep-show.js';

interface SweepFlags extends RequestFlags {
  grid?: string[];
  seeds?: string;
  jobs: number;
  resume?: string;
  show?: string;
  quiet?: boolean;
  json?: boolean;
}

export function registerSweep(program: Command): void {
  requestOptions(
    program
      .command('sweep')
      .description(
        'run every candidate of a grid of --set values (the cartesian product of the --grid flags), each an ordinary run sharing the cache, and rank them by their validation reports: ' +
          'fewer hard-gate failures (outside B), then fewer B+ misses, then a smaller distance to the B+ bands, then less time. Recorded in runs/.sweeps/ID.json; exit 0 when a candidate has no hard-gate failure',
      ),
  )
    .option('--grid <file#/pointer=v1,v2,...>', 'the values one pointer takes (YAML each; commas inside [..] and {..} do not split; repeatable: the candidates are the product)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--seeds <list>', 'run each candidate for every seed (comma-separated); its gates are counted over all of them')
    .option('--jobs <n>', 'states run at once within a run (1 is the memory-safe choice)', parseInteger('--jobs', 1, MAX_JOBS), 1)
    .option('--resume <sweep>', 'continue an interrupted sweep: finished candidates are skipped, a run cut short is resumed, the rest run')
    .option('--show <sweep>', "print a sweep's candidates side by side (parameters, then every gate's value) and its ranking; runs nothing")
    .addOption(new Option('--quiet', 'print only failures and the ranking').conflicts('json'))
    .option('--json', 'print the sweep record (grid, candidates, runs, ranking) as JSON and nothing else')
    .action(async (targets: string[], flags: SweepFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const runsDir = runsDirOf(cp);
      if (flags.show !== undefined) {
        const rec = readSweep(runsDir, flags.show);
        return flags.json ? printJson(rec) : showSweep(rec);
      }
      let rec: SweepRecord;
      if (flags.resume !== undefined) {
        const given = [flags.grid && '--grid', flags.seeds && '--seeds', flags.seed !== undefined && '--seed', flags.set && '--set', flags.from && '--from', flags.until && '--until', flags.base && '--base', flags.profile && '--profile', flags.scenarios && '--scenarios', targets.length > 0 && 'target states'].filter(Boolean);
        if (given.length) throw new DagError([{ code: 'resume-flags', file: '(command line)', message: `--resume continues a sweep as it started; it cannot take ${given.join(', ')}`, fix: 'drop them, or start a new sweep' }]);
        rec = readSweep(runsDir, flags.resume);
        if (rec.candidates.every((c) => isFinished(c, rec.request.seeds.length))) throw new DagError([{ code: 'resume-done', file: `${runsDir}/.sweeps/${rec.sweep_id}.json`, message: `sweep ${rec.sweep_id} finished; nothing to resume`, fix: `dag sweep --show ${rec.sweep_id}` }], EXIT.refused);
      } else {
        if (!flags.grid?.length) throw new DagError([{ code: 'no-grid', file: '(command line)', message: 'dag sweep needs at least one --grid FILE#/pointer=v1,v2,...', fix: 'e.g. --grid config/x.yaml#/kappa=2,10,50' }]);
        if (flags.seeds !== undefined && flags.seed !== undefined) throw new DagError([{ code: 'seeds-flags', file: '(command line)', message: '--seeds and --seed: give one' }]);
        // --set is checked with each candidate's values (a --set law may need a grid's kappa)
        const request = toRequest(cp, targets, { ...flags, set: undefined });
        const set = (flags.set ?? []).map(parseOverride);
        const grid = flags.grid.map(parseAxis);
        checkGrid(cp, grid, set, flags.profile);
        const seeds = flags.seeds !== undefined ? parseSeeds(flags.seeds) : [flags.seed ?? null];
        rec = newSweep(grid, { targets: request.targets, seeds, scenarios: request.scenarios ?? null, profile: request.profile ?? null, set, from: request.from ?? null, base: request.base ?? null, no_cache: request.noCache === true, jobs: flags.jobs });
      }
      await validateInputsOrFail(cp);
      const [{ EventBus }, { Sweep }, { attachRunLog }, { attachView }] = await Promise.all([import('../exec/events.js'), import('../exec/sweep.js'), import('../log/runlog.js'), import('../log/view.js')]);
      const bus = new EventBus();
      const mode: ViewMode = flags.json ? 'json' : flags.quiet ? 'quiet' : process.stdout.isTTY ? 'live' : 'plain';
      const view = await attachView(bus, mode);
      const log = attachRunLog(bus);
      const say = (text: string) => (mode === 'json' ? undefined : out(text));
      say(`sweep ${rec.sweep_id}: ${rec.candidates.length} candidates x ${rec.request.seeds.length} seed(s)${flags.resume ? ' (resumed)' : ''}`);
      const sweep = new Sweep(cp, rec, bus, (c: SweepCandidate, phase) => {
        if (phase === 'start') say(`\n${c.id}: ${parametersText(c)}`);
      });
      let interrupted: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        process.stderr.write(`\n${sig}: abandoning the running candidate; dag sweep --resume ${rec.sweep_id} continues\n`);
        interrupted = sig;
        sweep.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const done = await sweep.run();
        const best = done.ranking[0];
        process.exitCode = interrupted ? (interrupted === 'SIGTERM' ? 143 : 130) : best && best.measured && best.hard_fails === 0 ? EXIT.ok : EXIT.failed;
        if (flags.json) return printJson(done);
        out(`\nsweep ${done.sweep_id} ${done.status}: ${done.ranking.length} of ${done.candidates.length} candidates ranked`);
        out(rankingTable(done));
        if (best) out(`\nbest: ${best.candidate} (${parametersText(done.candidates.find((c) => c.id === best.candidate)!)}), run ${best.runs.join(', ')}\nside by side: dag sweep --show ${done.sweep_id}; dag prune keeps the best candidate's runs and lets the others go (--drop-sweep ${done.sweep_id} lets the best go too)`);
        if (done.status === 'interrupted') out(`continue: dag sweep --resume ${done.sweep_id}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        view.stop();
        await log.close();
      }
    });
}

/** `--grid FILE#/pointer=v1,v2,...` as an axis; a value given twice is refused (two equal candidates). */
function parseAxis(text: string): SweepAxis {
  const { file, pointer, valueText: list } = splitAssignment(text, '--grid');
  const texts = splitValues(list);
  if (texts.some((t) => t === '')) throw new DagError([{ code: 'bad-grid', file: '(command line)', message: `--grid ${file}#${pointer}: an empty value in '${list}'`, fix: 'give comma-separated values: =1,2,3' }]);
  const values = texts.map((t) => parseValue(t, '--grid', `${file}#${pointer}`));
  const seen = new Set(values.map((v) => JSON.stringify(v)));
  if (seen.size !== values.length) throw new DagError([{ code: 'bad-grid', file: '(command line)', message: `--grid ${file}#${pointer} lists a value twice: '${list}'` }]);
  return { file, pointer, values };
}

/** Every candidate's overrides checked before anything runs: one pointer on two axes, or in --set too, is refused; so is a value its contract rejects. */
function checkGrid(cp: Parameters<typeof checkOverrides>[0], grid: SweepAxis[], set: Override[], profile: string | undefined): void {
  const problems: Diagnostic[] = [];
  const ids = [...set.map((o) => `${o.file}#${o.pointer}`), ...grid.map((a) => `${a.file}#${a.pointer}`)];
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length) throw new DagError([{ code: 'grid-twice', file: '(command line)', message: `${twice[0]} is given twice (in --grid or --set)`, fix: 'give each pointer once' }]);
  const seen = new Set<string>();
  for (const overrides of candidatesOf(grid)) {
    for (const d of checkOverrides(cp, [...set, ...overrides], profile)) {
      const key = JSON.stringify(d);
      if (!seen.has(key)) problems.push(d);
      seen.add(key);
    }
  }
  if (problems.length) throw new DagError(problems);
}

function newSweep(grid: SweepAxis[], request: SweepRecord['request']): SweepRecord {
  const now = new Date().toISOString();
  const candidates = candidatesOf(grid).map((overrides, i): SweepCandidate => ({ id: `c${i + 1}`, overrides, runs: [] }));
  return { sweep_id: randomBytes(8).toString('hex'), created_utc: now, updated_utc: now, status: 'running', request, grid, candidates, ranking: [] };
}
