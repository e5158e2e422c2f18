// issue 16: dag could not be used outside this repository (`npx dag` elsewhere: "could not
// determine executable"; the CLI was a `file:` dependency of the private engine package). Here the
// dag package is packed (`npm pack`), installed into an empty folder, and the guide's worked
// example (docs/writing-a-pipeline.md, every `<!-- file: X -->` block) is run there: run, run again
// (cached), plan, query, prune.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

/** The files of the guide's example: each fenced block under a `<!-- file: path -->` line. */
export function guideFiles(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- file: (\S+) -->\n```[a-z]*\n([\s\S]*?)```/g)) files.set(m[1]!, m[2]!);
  return files;
}

describe('dag as a package of its own', () => {
  it('npm pack, npm install into an empty folder, then the guide example: dag run, run (cached), plan, query, prune', { timeout: 300_000 }, () => {
    const packs = tempDir('pack');
    const packed = execFileSync('npm', ['pack', '--pack-destination', packs, '--json'], { cwd: join(REPO, 'dag'), encoding: 'utf8' });
    const tarball = join(packs, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
    const listed = (JSON.parse(packed) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(listed).toContain('bin/dag.mjs');
    expect(listed).toContain('dist/bundle/main.js');
    expect(listed).toContain('dist/exec/kernel-main.js');
    expect(listed.some((f) => f.startsWith('src/') || f.endsWith('.ts'))).toBe(false);

    const user = tempDir('user');
    writeFileSync(join(user, 'package.json'), JSON.stringify({ name: 'my-pipeline', private: true }));
    const install = spawnSync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: user, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);

    const files = guideFiles(readFileSync(join(REPO, 'docs', 'writing-a-pipeline.md'), 'utf8'));
    expect([...files.keys()].sort()).toEqual(['config/params.yaml', 'contracts/hello.yaml', 'dag.yaml', 'states/demo/S1_squares.sql', 'states/demo/S1_squares.yaml', 'states/demo/S2_total.sql', 'states/demo/S2_total.yaml']);
    const lines = [...files.values()].reduce((n, t) => n + t.trimEnd().split('\n').length, 0);
    expect(lines, 'the worked example stays small').toBeLessThanOrEqual(30);
    for (const [f, text] of files) {
      mkdirSync(dirname(join(user, f)), { recursive: true });
      writeFileSync(join(user, f), text);
    }

    const dag = (...args: string[]) => {
      const r = spawnSync(join(user, 'node_modules', '.bin', 'dag'), args, { cwd: user, encoding: 'utf8', env: { ...process.env, DAG_RUNS_DIR: undefined, NO_COLOR: '1' } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const version = dag('--version');
    expect(version.code, version.err).toBe(0);
    expect(version.out).toMatch(/^dag 0\.1\.0 \(DuckDB /);

    const first = dag('run', '--json');
    expect(first.code, first.err + first.out).toBe(0);
    expect(JSON.parse(first.out).counts).toMatchObject({ ran: 2, failed: 0 });
    const runDir = JSON.parse(first.out).run_dir as string;
    expect(readdirSync(join(runDir, 'data', 'squares', 'seed=42'))).toEqual(['squares.parquet']);
    expect(JSON.parse(readFileSync(join(runDir, 'reports', 'total', 'seed=42', 'total.json'), 'utf8'))).toEqual({ sum: 285 });

    const second = dag('run', '--json');
    expect(JSON.parse(second.out).counts).toMatchObject({ ran: 0, cached: 2 });
    const plan = dag('plan', '--json');
    expect(plan.code, plan.err).toBe(0);
    expect(JSON.parse(plan.out).counts).toMatchObject({ cached: 2, run: 0 });
    const query = dag('query', 'last-good', 'select count(*) as n from squares', '--json');
    expect(query.code, query.err).toBe(0);
    expect(JSON.parse(query.out)).toEqual([{ n: '10' }]); // a BIGINT as text, exact
    const prune = dag('prune', '--json');
    expect(prune.code, prune.err).toBe(0);
    expect((JSON.parse(prune.out) as { rows: unknown[] }).rows).toHaveLength(2);
  });
});
