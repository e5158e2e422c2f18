// What a kernel process's death means for its job (exec/pool.ts deathAnswer).
import { describe, expect, it } from 'vitest';
import { deathAnswer } from '../../dag/exec/pool.js';

describe('a kernel process that dies', () => {
  it('killed by the pool (the run is stopping): the job is interrupted', () => {
    expect(deathAnswer(true, null, 'SIGKILL', 'draw', '')).toBe('interrupted');
  });

  it("by SIGINT or SIGTERM (the process group's Ctrl-C, before the kernel ignores it): interrupted, not the state's failure", () => {
    // the bug: a kernel still starting died of the group's SIGINT, the orchestrator saw the death
    // before its own signal handler ran, failed the state, finished the run `failed` and exited 1
    expect(deathAnswer(false, null, 'SIGINT', 'setup', '')).toBe('interrupted');
    expect(deathAnswer(false, null, 'SIGTERM', 'setup', '')).toBe('interrupted');
  });

  it('any other death fails the job, naming the step, the signal or code, and the last stderr lines', () => {
    const a = deathAnswer(false, null, 'SIGSEGV', 'draw', 'line 1\nSegmentation fault\n');
    expect(a).toEqual({ failure: { message: "kernel process died in step 'draw' (signal SIGSEGV): line 1\nSegmentation fault", step: 'draw' } });
    const b = deathAnswer(false, 3, null, 'write outputs', '');
    expect(b).toEqual({ failure: { message: "kernel process died in step 'write outputs' (exit code 3)", step: 'write outputs' } });
  });
});
