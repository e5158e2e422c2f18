// The loggers turn exec's facts into words: plain lines for pipes, and the live view (log-update)
// with one line per running state and an overall line, clipped to the terminal's width.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventBus, type ExecEvent } from '../../dag/exec/events.js';
import { attachLines } from '../../dag/log/lines.js';
import { attachLive } from '../../dag/log/live.js';
import { eventLines } from '../../dag/log/words.js';

const counts = { ran: 1, cached: 0, staged: 0, failed: 1, skipped: 1, kept: 0 };
const RUN: ExecEvent[] = [
  { type: 'run-start', runId: 'r1', runDir: '/runs/r1', tasks: 3, estimates: { 'fx.S1': 10, 'fx.S2': 20 }, seed: 42, resumed: false, parameterHash: 'p', manifestFingerprint: 'm' },
  { type: 'warning', warning: { code: 'stale-lock', pid: 123, since: '2026-12-01T00:00:00Z' } },
  { type: 'task-start', task: 'fx.S1', state: 'fx.S1', estimateSeconds: 10 },
  { type: 'task-end', task: 'fx.S1', state: 'fx.S1', action: 'ran', reason: 'never ran', seconds: 1.5, gatePassed: true },
  { type: 'task-end', task: 'fx.S2', state: 'fx.S2', action: 'failed', reason: 'boom', seconds: 0.5, failure: { message: 'fx.S2: SQL error in step x', step: 'x' } },
  { type: 'task-end', task: 'fx.S3', state: 'fx.S3', action: 'skipped', reason: 'upstream fx.S2 failed', seconds: 0 },
  { type: 'run-end', runId: 'r1', runDir: '/runs/r1', status: 'failed', counts, seconds: 2, labels: [] },
];

function replay(events: ExecEvent[], bus: EventBus): void {
  for (const e of events) bus.emit(e);
}

describe('plain and quiet lines', () => {
  it('plain: a line per event, the warning and the failure in words', () => {
    const bus = new EventBus();
    const lines: string[] = [];
    attachLines(bus, false, (l) => lines.push(l));
    replay(RUN, bus);
    expect(lines[0]).toBe('run r1: 3 states, seed 42');
    expect(lines).toContain('warning: took over the stale lock of dead pid 123 (since 2026-12-01T00:00:00Z)');
    expect(lines).toContain('start   fx.S1 (last time 10.0s)');
    expect(lines.find((l) => l.startsWith('ran'))).toMatch(/^ran\s+fx\.S1\s+1\.50s\s+never ran; gate passed$/);
    expect(lines).toContain('        fx.S2: SQL error in step x');
    expect(lines.at(-2)).toBe('failed in 2.00s: 1 ran, 0 cached, 0 staged, 0 kept, 1 failed, 1 skipped');
  });

  it('quiet: only the failure, the warning and the summary', () => {
    const bus = new EventBus();
    const lines: string[] = [];
    const off = attachLines(bus, true, (l) => lines.push(l));
    replay(RUN, bus);
    expect(lines.filter((l) => /^(run|start|ran|skipped) /.test(l))).toEqual([]);
    expect(lines.some((l) => l.startsWith('failed  fx.S2'))).toBe(true);
    expect(lines.some((l) => l.startsWith('warning: '))).toBe(true);
    off();
    const before = lines.length;
    replay(RUN, bus);
    expect(lines.length).toBe(before); // on() returned off, and off unsubscribed
  });
});

describe('the live view', () => {
  const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  function terminal(columns: number) {
    const stream = Object.assign(new PassThrough(), { columns, rows: 40, isTTY: true });
    let text = '';
    stream.on('data', (b: Buffer) => (text += b.toString()));
    return { stream, text: () => strip(text) };
  }

  it('draws each running state and an overall line with the ETA left, clipped to the width', () => {
    const t = terminal(60);
    let clock = 0;
    const bus = new EventBus();
    const view = attachLive(bus, t.stream, () => clock);
    replay(RUN.slice(0, 3), bus); // run-start, a warning, fx.S1 starts
    clock = 4_000; // fx.S1 has spent 4 of its 10 s
    bus.emit({ type: 'task-step', task: 'fx.S1', step: 'customers', index: 0, count: 2 });
    bus.emit({ type: 'task-start', task: 'fx.S2', state: 'fx.S2', estimateSeconds: 20 });
    const out = t.text();
    // 6 s left of fx.S1, 20 s of fx.S2, and fx.S3 was never timed
    expect(out).toContain('0/3 states, 2 running, ETA 26.0s + 1 never timed');
    expect(out).toMatch(/▶ fx\.S1\s+customers\s+4\.00s\s+ETA 6\.00s/);
    expect(out).toContain('warning: took over the stale lock of dead pid 123');
    replay(RUN.slice(3), bus);
    view.stop();
    const all = t.text();
    expect(all).toContain('2/3 states, 0 running');
    expect(all).toContain('failed in 2.00s: 1 ran');
    const redrawn = (l: string) => l.startsWith('  ▶') || / states, \d+ running/.test(l);
    for (const line of all.split('\n').filter(redrawn)) expect(line.length, line).toBeLessThanOrEqual(59);
  });

  it('a narrow terminal: the redrawn lines are cut with an ellipsis, not wrapped', () => {
    const t = terminal(30);
    const bus = new EventBus();
    const view = attachLive(bus, t.stream, () => 0);
    replay(RUN.slice(0, 3), bus);
    view.stop();
    const lines = t.text().split('\n').filter((l) => l.startsWith('  ▶') || l.startsWith('0/3'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.endsWith('…'))).toBe(true);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(29);
  });

  it('scrolls the same lines as the plain view: task ends, failures, warnings, kernel logs', () => {
    const events: ExecEvent[] = [...RUN.slice(0, 4), { type: 'task-log', task: 'fx.S2', level: 'info', message: 'hello' }, ...RUN.slice(4)];
    const t = terminal(200);
    const live = new EventBus();
    const view = attachLive(live, t.stream, () => 0);
    replay(events, live);
    view.stop();
    const plain = new EventBus();
    const lines: string[] = [];
    attachLines(plain, false, (l) => lines.push(l));
    replay(events, plain);
    const scrolled = events.flatMap(eventLines);
    expect(scrolled).toContain('        fx.S2: hello');
    const shown = t.text().split('\n');
    for (const l of scrolled) {
      expect(lines, l).toContain(l);
      expect(shown, l).toContain(l);
    }
  });
});
