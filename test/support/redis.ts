// A private Redis server for a test file: `redis-server` on a free port, in a temporary folder, with
// nothing saved; stopped in afterAll. Tests that need it skip, saying why, when redis-server is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** Whether redis-server is on PATH (.ci/run installs it from Debian). */
export const HAVE_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
export const NO_REDIS = 'redis-server is not installed (apt-get install -y redis-server; .ci/run does it): the bullmq executor tests are skipped';

/** A port nobody listens on now (the kernel picks it; closed again before the server takes it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Servers of this test file, stopped after its tests (a hook made inside a hook would never run). */
const started: { server: ChildProcess; dir: string }[] = [];
afterAll(async () => {
  for (const { server, dir } of started.splice(0)) {
    if (server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts a server and returns its URL once it accepts connections. */
export async function startRedis(): Promise<{ url: string; server: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), 'dag-redis-'));
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push({ server, dir });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${log}`)), 10_000);
    server.stdout!.setEncoding('utf8').on('data', (s: string) => {
      log += s;
      if (/Ready to accept connections/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${log}`));
    });
  });
  return { url: `redis://127.0.0.1:${port}`, server };
}
