// issue 16: `dag completion bash|zsh` from the commander program; ids completed by asking dag itself.
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { dag, diamond, goodRun, tempDir, TIMEOUT, type Proj } from '../cache/helpers.js';

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

/** A `dag` on PATH (the scripts call the dag of the command line) and the bash script sourced. */
function completer(p: Proj, script: string) {
  const bin = tempDir('bin');
  writeFileSync(join(bin, 'dag'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'dag'), 0o755);
  const file = join(bin, 'dag.bash');
  writeFileSync(file, script);
  /** COMPREPLY for a command line whose last word is the one being completed. */
  return (words: string[]): string[] => {
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dag; printf "%s\\n" "${COMPREPLY[@]}"', file, ...words], {
      cwd: p.root,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DAG_RUNS_DIR: p.runsDir },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  };
}

describe('dag completion', { timeout: TIMEOUT }, () => {
  it('bash: the script parses, and completes commands, flags, choices, state ids and runs', async () => {
    const p = diamond();
    const run = await goodRun(p);
    const r = await dag(p, ['completion', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    const file = join(tempDir('script'), 'dag.bash');
    writeFileSync(file, r.stdout);
    const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);

    const complete = completer(p, r.stdout);
    expect(complete(['dag', 'p'])).toEqual(['plan', 'perf', 'prune']);
    expect(complete(['dag', ''])).not.toContain('__complete'); // hidden
    expect(complete(['dag', 'plan', '--'])).toEqual(expect.arrayContaining(['--from', '--base', '--no-cache', '--json', '--wide', '--root', '--help']));
    expect(complete(['dag', 'run', '--r'])).toEqual(['--run-id', '--resume', '--root']);
    expect(complete(['dag', 'graph', '--format', ''])).toEqual(['mermaid', 'dot', 'json']);
    // state ids come from `dag __complete states` of the project the line names (or the current one)
    const states = ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4'];
    expect(complete(['dag', '--root', p.root, 'run', '--from', ''])).toEqual(states);
    expect(complete(['dag', 'plan', '--from', 'fx.S1', 'fx.S'])).toEqual(states); // after a flag's value: target states
    expect(complete(['dag', 'show', 'fx.S3'])).toEqual(['fx.S3']);
    // runs and labels, for RUN arguments and run flags
    expect(complete(['dag', 'diff', run.run_id, ''])).toEqual(['last-good', run.run_id]);
    expect(complete(['dag', 'run', '--from', 'fx.S2', '--base', 'last'])).toEqual(['last-good']);
    expect(complete(['dag', 'label', run.run_id, ''])).toEqual(['last-good']);
    // a free value offers nothing (not file names)
    expect(complete(['dag', 'run', '--seed', ''])).toEqual([]);
  });

  it('__complete prints nothing for a broken project, and no error', async () => {
    const p = diamond();
    writeFileSync(join(p.root, 'dag.yaml'), 'not: [valid\n');
    for (const what of ['states', 'runs']) {
      const r = await dag(p, ['__complete', what]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('');
      expect(r.stderr).toBe('');
    }
  });

  it('zsh: the script names every command with its help and is a compdef function', async () => {
    const p = diamond();
    const r = await dag(p, ['completion', 'zsh']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^#compdef dag\n/);
    expect(r.stdout).toMatch(/'plan:preview what `dag run` with the same flags would do/);
    expect(r.stdout).toContain("'plan --from') echo 'states' ;;");
    expect(r.stdout).toMatch(/compdef _dag dag/);
    if (hasZsh) {
      const file = join(tempDir('script'), '_dag');
      writeFileSync(file, r.stdout);
      const syntax = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
      expect(syntax.status, syntax.stderr).toBe(0);
    }
  });

  it('an unknown shell is a usage error', async () => {
    const p = diamond();
    const r = await dag(p, ['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are bash, zsh/);
  });
});
