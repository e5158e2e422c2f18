import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';

/** Runs `dag` under a pseudo-terminal (util-linux `script`), so stdout is a TTY, and returns what it drew. */
function underTty(args: string[], env: Record<string, string>): string {
  const cmd = [process.execPath, join(REPO, 'dag', 'bin', 'dag.mjs'), ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return execFileSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
}

describe('the live terminal view', () => {
  it('draws a line per running state with its step, elapsed time and, from the last run, an ETA', () => {
    const root = mkdtempSync(join(tmpdir(), 'dag-tty-'));
    cpSync(join(REPO, 'test', 'fixtures', 'diamond'), root, { recursive: true, filter: (s) => !s.endsWith(join('diamond', 'runs')) });
    const kernel = join(root, 'states', 'fx', 'S1_customers.sql');
    writeFileSync(kernel, `-- step: warm up\ncreate table slow as select count(*) as n from range(400000000) t(i) where i % 7 = 3;\n${readFileSync(kernel, 'utf8')}`);
    const env = { DAG_RUNS_DIR: mkdtempSync(join(tmpdir(), 'dag-tty-runs-')) };
    const first = underTty(['--root', root, 'run'], env);
    expect(first).toMatch(/\x1b\[\d+A/); // redraws in place (cursor up)
    expect(first).toMatch(/▶ fx\.S1\s+warm up/);
    expect(first).toContain('never timed');
    expect(first).toMatch(/\d\/5 states, \d running, \d never timed/); // the overall line
    expect(first).toMatch(/succeeded in .*: 5 ran/);
    const second = underTty(['--root', root, 'run', '--no-cache'], env);
    expect(second).toMatch(/▶ fx\.S1\s+\S.*(ETA \d|over its last)/);
    expect(second).toMatch(/\d\/5 states, \d running, ETA \d/);
  }, 120_000);
});
