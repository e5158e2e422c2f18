import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Document, LineCounter, Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

export type PathSegment = string | number;

type YamlLib = typeof import('yaml');
let yamlLib: YamlLib | undefined;

/** The yaml library, loaded on first use: a project whose parsed files are all cached never loads it. */
export function yamlLibrary(): YamlLib {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib);
}

/** Optional folder where parsed files are kept by content digest (see `YamlSource.useCache`). */
let cacheDir: string | undefined;

/**
 * A parsed YAML (or JSON) file that can say on which line any value sits. The line map is built
 * only when asked for (a diagnostic), and with a cache folder set, an unchanged file is not parsed
 * again at all: its data comes back from JSON keyed by the file's sha256.
 */
export class YamlSource {
  private parsed?: { doc: Document; lines: LineCounter };

  private constructor(
    readonly file: string,
    readonly data: unknown,
    private textOrLoader: string | (() => string),
  ) {}

  /** The file's text (read on first need when the source was made from a snapshot). */
  private get text(): string {
    if (typeof this.textOrLoader !== 'string') this.textOrLoader = this.textOrLoader();
    return this.textOrLoader;
  }

  /** Keep parsed files in `dir` (e.g. runs/.cache/parsed); undefined turns it off. */
  static useCache(dir: string | undefined): void {
    cacheDir = dir;
    if (dir) mkdirSync(dir, { recursive: true });
  }

  /** A source whose data is already known (a snapshot of this very text, or of the file `text` reads); lines are found on demand. */
  static known(file: string, data: unknown, text: string | (() => string)): YamlSource {
    return new YamlSource(file, data, text);
  }

  /** The folder parsed files are kept in, if any. */
  static cacheFolder(): string | undefined {
    return cacheDir;
  }

  /** Parses `text`; syntax errors come back as diagnostics naming `file` and the line. */
  static parse(file: string, text: string): { source?: YamlSource; errors: Diagnostic[] } {
    const digest = createHash('sha256').update(text).digest('hex');
    const cached = cacheDir ? join(cacheDir, digest + '.json') : undefined;
    if (cached) {
      // an entry is used only when it names this text's digest and its data still matches its own
      // check (an edited or damaged entry is re-derived from the YAML, never believed)
      try {
        const entry = JSON.parse(readFileSync(cached, 'utf8')) as { source?: string; data?: unknown; check?: string };
        if (entry.source === digest && entry.check === checkOf(digest, entry.data)) return { source: new YamlSource(file, entry.data, text), errors: [] };
      } catch {
        /* not cached yet */
      }
    }
    const { doc, lines } = parseWithLines(text);
    const errors: Diagnostic[] = doc.errors.map((e) => ({
      code: 'yaml-syntax',
      file,
      line: lines.linePos(e.pos[0]).line,
      message: `YAML syntax: ${e.message.split('\n')[0]}${syntaxContext(text, e.code, e.pos, lines.linePos(e.pos[0]).line)}`,
    }));
    if (errors.length > 0) return { errors };
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      // an alias expanded past the limit (a "billion laughs" document) or a circular one
      return { errors: [{ code: 'yaml-aliases', file, message: `YAML aliases: ${(e as Error).message.split('\n')[0]} (at most 1000 alias expansions)`, fix: 'write the values out instead of through nested aliases' }] };
    }
    const source = new YamlSource(file, data, text);
    source.parsed = { doc, lines };
    if (cached && data !== undefined) {
      try {
        writeFileSync(cached, JSON.stringify({ source: digest, data, check: checkOf(digest, data) }));
      } catch {
        /* a cache that cannot be written is only slower */
      }
    }
    return { source, errors };
  }

  static read(absPath: string, file: string, given?: Buffer): { source?: YamlSource; errors: Diagnostic[] } {
    const bytes = given ?? readFileSync(absPath);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
      return { errors: [{ code: 'not-utf8', file, line, message: `the file is not UTF-8: byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at offset ${at} (line ${line})`, fix: 'save it as UTF-8' }] };
    }
    return YamlSource.parse(file, text);
  }

  /** Line of the key (or item) at `path`; falls back to the nearest ancestor that exists. */
  lineOf(path: readonly PathSegment[]): number | undefined {
    this.parsed ??= parseWithLines(this.text);
    const { doc, lines } = this.parsed;
    const { isMap, isPair, isScalar, isSeq } = yamlLibrary();
    let node: unknown = doc.contents;
    let offset: number | undefined = rangeStart(node);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else break;
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  }
}

function parseWithLines(text: string): { doc: Document; lines: LineCounter } {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lines = new LineCounter();
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true }), lines };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

/** `/a/0/b` from `['a', 0, 'b']` (RFC 6901 escaping). */
export function toPointer(path: readonly PathSegment[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer must start with '/': ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A parsed-cache entry's own check: the source digest with its data, hashed. */
function checkOf(digest: string, data: unknown): string {
  return createHash('sha256').update(digest).update('\0').update(JSON.stringify(data) ?? '').digest('hex');
}

/** The offset of the first byte that starts no valid UTF-8 sequence in `b` (a lead byte without its continuation bytes, or a stray one). */
function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0) return i;
    for (let k = 1; k < n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return b.length;
}

/** What a YAML syntax error is about, quoted: the key given twice, or else the line the parser stopped on. */
function syntaxContext(text: string, code: string, pos: [number, number], line: number): string {
  if (code === 'DUPLICATE_KEY') return `: '${/^[^:\n]*/.exec(text.slice(pos[0]))![0].trim()}' appears twice`;
  const at = (text.split('\n')[line - 1] ?? '').trim();
  if (at === '') return '';
  return `; the line reads '${at.length > 60 ? at.slice(0, 57) + '...' : at}'`;
}
