import { afterAll, describe, expect, it } from 'vitest';
import { applyOverlay, brokenNames, DIAMOND, expectationOf, TempCopies, type Expectation } from '../fixtures/materialize.js';
import { CLI_TIMEOUT, runDag, STACK_LINE } from './runDag.js';

const temp = new TempCopies();
const copy = temp.copy;
afterAll(temp.removeAll);

/** The `error: ` line of stderr that reports `e`, checked piece by piece so a failure says which piece is off. */
function expectReported(stderr: string, e: Expectation): void {
  const where = e.line === null ? e.file : `${e.file}:${e.line}`;
  const prefix = `error: ${where}`;
  // the location ends at ':' or ' at /pointer', so `file:1` does not match `file:14`
  const lines = stderr.split('\n').filter((l) => l.startsWith(prefix) && /^[ :]/.test(l.slice(prefix.length)) && l.includes(`[${e.code}]`));
  expect(lines, `no 'error: ${where} … [${e.code}]' line in:\n${stderr}`).toHaveLength(1);
  expect(lines[0]).toContain(e.message);
  if (e.pointer) expect(lines[0]).toContain(` at ${e.pointer}: `);
  if (e.value !== undefined) expect(lines[0], 'the offending value').toContain(e.value);
}

describe('dag validate on the broken copies of the diamond', { timeout: CLI_TIMEOUT }, () => {
  const names = brokenNames();

  it('has a broken copy for every compile-time check of ORCHESTRATOR.md §3', () => {
    const codes = new Set(names.map((n) => expectationOf(n).code));
    for (const code of ['duplicate-state-id', 'duplicate-output', 'unknown-dataset', 'cycle', 'missing-kernel', 'missing-file', 'schema-ref', 'path-placeholder', 'unknown-gate', 'duplicate-gate', 'manifest', 'project-file', 'yaml-syntax', 'input-schema']) {
      expect(codes, code).toContain(code);
    }
  });

  it('is a corpus of at least 60 defects, nearly all of them quoting the offending value', () => {
    expect(names.length).toBeGreaterThanOrEqual(60);
    // the few without one break the text itself (YAML syntax, an alias bomb) or a graph (a cycle)
    const without = names.filter((n) => expectationOf(n).value === undefined);
    expect(without.length, without.join(', ')).toBeLessThanOrEqual(8);
  });

  it('accepts the clean diamond (exit 0, nothing on stderr)', async () => {
    const r = await runDag(['--root', DIAMOND, 'validate']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 5 states in 1 segment, 6 datasets, 2 contract files$/m);
  });

  it.concurrent.for(names)('%s: exit 2, file:line or pointer, [code], message and value, no stack trace', async (name, { expect }) => {
    const e = expectationOf(name);
    const r = await runDag(['--root', copy(name), 'validate']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).toContain(e.file);
    if (e.line !== null) expect(r.stderr).toContain(`${e.file}:${e.line}`);
    expect(r.stderr).toContain(`[${e.code}]`);
    expect(r.stderr).toContain(e.message);
    expectReported(r.stderr, e);
    const count = e.count ?? 1;
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error: ')), r.stderr).toHaveLength(count);
    if (count > 1) expect(r.stderr).toContain(`${count} problems`);
  });

  it('--verbose adds a stack trace to a user error, and only then', async () => {
    const dir = copy('missing-kernel');
    const plain = await runDag(['--root', dir, 'validate']);
    const verbose = await runDag(['--root', dir, '--verbose', 'validate']);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(STACK_LINE);
  });

  it('reports two problems in different manifests at once, not only the first', async () => {
    const dir = applyOverlay(copy('missing-kernel'), 'unknown-gate');
    const r = await runDag(['--root', dir, 'validate']);
    expect(r.code).toBe(2);
    expectReported(r.stderr, expectationOf('missing-kernel'));
    expectReported(r.stderr, expectationOf('unknown-gate'));
    expect(r.stderr).toContain('2 problems');
  });

  it('reports problems of the manifests and of the contracts together', async () => {
    const dir = applyOverlay(applyOverlay(copy('unknown-dataset'), 'table-schema'), 'path-placeholder');
    const r = await runDag(['--root', dir, 'validate']);
    expect(r.code).toBe(2);
    for (const n of ['unknown-dataset', 'table-schema', 'path-placeholder']) expectReported(r.stderr, expectationOf(n));
    expect(r.stderr).toContain('3 problems');
  });


  // - input-schema: `validate` checks schema-bound input files only after the project compiled
  //   cleanly, so a bad config/params.yaml is hidden behind any compile error;
  // - project-file: a dag.yaml that fails its schema stops loadProject before compiling, so the
  //   manifests' graph problems are not listed with it.
  it.for(['input-schema', 'project-file'])('reports %s together with a compile error', async (other) => {
    const dir = applyOverlay(copy('missing-kernel'), other);
    const r = await runDag(['--root', dir, 'validate']);
    expect(r.code).toBe(2);
    expectReported(r.stderr, expectationOf(other));
    expectReported(r.stderr, expectationOf('missing-kernel'));
  });
});
