// `dag ui`: a read-only dashboard on 127.0.0.1. Every request reads the project and the run folders
// anew, so a run started from any terminal shows up; nothing runs unless the server was started
// with allowRun, and then only `dag run` as a child process, on a JSON POST.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CompiledProject } from '../graph/compile.js';
import type { Diagnostic } from '../project/diagnostics.js';
import { DagError } from '../project/diagnostics.js';
import { runRows } from '../store/listing.js';
import { resolveRun } from '../store/runs.js';
import { projectGraphSvg } from './svg.js';
import { LiveFeed } from './live.js';
import { projectData, runDetail, type ProjectData } from './model.js';
import { pageHtml } from './page.js';

export interface UiOptions {
  root: string;
  runsDir: string;
  /** Compiles the project as it is now: the compiled project, or every problem. */
  compile: () => { cp?: CompiledProject; problems: Diagnostic[] };
  threads: number;
  /** POST /api/run starts `dag run` (else 403). */
  allowRun: boolean;
  /** The command line of `dag` itself (node and its bin), for the runs POST /api/run starts. */
  dagCommand: string[];
  /** Milliseconds between two reads of the runs folder for the live feed. */
  pollMs?: number;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/** The project's data, or its problems when it does not compile. */
function projectNow(opts: UiOptions): ProjectData {
  const { cp, problems } = opts.compile();
  if (!cp) return { name: '(does not compile)', root: opts.root, segments: [], states: [], edges: [], plan: { error: 'the project does not compile' }, problems };
  return projectData(cp);
}

export function startUi(opts: UiOptions, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handle(opts, req, res).catch((e: unknown) => {
      if (res.headersSent) return res.end();
      const message = e instanceof DagError ? e.diagnostics.map((d) => d.message).join('; ') : (e as Error).message;
      json(res, e instanceof DagError ? 404 : 500, { error: message });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function handle(opts: UiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // only this machine's pages: a name that resolves here from elsewhere (DNS rebinding) is refused
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (host !== '127.0.0.1' && host !== 'localhost') return json(res, 403, { error: `host ${host} refused: dag ui answers 127.0.0.1 and localhost only` });
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = url.pathname;
  if (req.method === 'POST' && path === '/api/run') return startRun(opts, req, res);
  if (req.method !== 'GET') return json(res, 405, { error: `${req.method} ${path}: dag ui is read-only` });
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end(pageHtml({ mode: 'live', allowRun: opts.allowRun }));
  }
  if (path === '/api/project') return json(res, 200, projectNow(opts));
  if (path === '/api/graph.svg') {
    const { cp } = opts.compile();
    if (!cp) return json(res, 409, { error: 'the project does not compile' });
    res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end(projectGraphSvg(cp, (url.searchParams.get('collapsed') ?? '').split(',')));
  }
  if (path === '/api/runs') return json(res, 200, runRows(opts.runsDir));
  const m = /^\/api\/runs\/([^/]+)$/.exec(path);
  if (m) {
    const run = resolveRun(opts.runsDir, decodeURIComponent(m[1]!));
    return json(res, 200, await runDetail(opts.runsDir, run, { root: opts.root, threads: opts.threads, certify: true }));
  }
  if (path === '/api/events') return liveEvents(opts, req, res);
  json(res, 404, { error: `no ${path}` });
}

/** Server-sent events: a snapshot on connect, then every change the feed sees. */
function liveEvents(opts: UiOptions, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  const feed = new LiveFeed(opts.runsDir);
  const send = (m: unknown) => res.write(`data: ${JSON.stringify(m)}\n\n`);
  send(feed.snapshot());
  const timer = setInterval(() => {
    try {
      for (const m of feed.poll()) send(m);
    } catch {
      /* a run folder removed mid-read (prune): the next poll sees the folder as it is */
    }
  }, opts.pollMs ?? 300);
  req.on('close', () => clearInterval(timer));
}

/** POST /api/run {seed?, no_cache?}: `dag run` in its own process, when the server allows it. */
async function startRun(opts: UiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!opts.allowRun) return json(res, 403, { error: 'dag ui is read-only: start it with --allow-run to start runs from the page' });
  // a JSON body only: a plain HTML form from another site cannot send one without a preflight
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { error: 'POST /api/run takes a JSON body' });
  let body: { seed?: unknown; no_cache?: unknown };
  try {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body) : {};
  } catch {
    return json(res, 400, { error: 'the body is not JSON' });
  }
  if (body.seed !== undefined && !(Number.isSafeInteger(body.seed) && (body.seed as number) >= 0)) return json(res, 400, { error: 'seed must be a non-negative integer' });
  const args = ['--root', opts.root, 'run', '--quiet', ...(body.seed !== undefined ? ['--seed', String(body.seed)] : []), ...(body.no_cache === true ? ['--no-cache'] : [])];
  const child = spawn(opts.dagCommand[0]!, [...opts.dagCommand.slice(1), ...args], { detached: true, stdio: 'ignore' });
  child.unref();
  json(res, 202, { pid: child.pid ?? null, args });
}
