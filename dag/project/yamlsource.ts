import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

export type PathSegment = string | number;

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
    private readonly text: string,
  ) {}

  /** Keep parsed files in `dir` (e.g. runs/.cache/parsed); undefined turns it off. */
  static useCache(dir: string | undefined): void {
    cacheDir = dir;
    if (dir) mkdirSync(dir, { recursive: true });
  }

  /** Parses `text`; syntax errors come back as diagnostics naming `file` and the line. */
  static parse(file: string, text: string): { source?: YamlSource; errors: Diagnostic[] } {
    const cached = cacheDir ? join(cacheDir, createHash('sha256').update(text).digest('hex') + '.json') : undefined;
    if (cached) {
      try {
        return { source: new YamlSource(file, JSON.parse(readFileSync(cached, 'utf8')), text), errors: [] };
      } catch {
        /* not cached yet */
      }
    }
    const { doc, lines } = parseWithLines(text);
    const errors: Diagnostic[] = doc.errors.map((e) => ({
      code: 'yaml-syntax',
      file,
      line: lines.linePos(e.pos[0]).line,
      message: `YAML syntax: ${e.message.split('\n')[0]}`,
    }));
    if (errors.length > 0) return { errors };
    const data: unknown = doc.toJS({ maxAliasCount: 1000 });
    const source = new YamlSource(file, data, text);
    source.parsed = { doc, lines };
    if (cached && data !== undefined) {
      try {
        writeFileSync(cached, JSON.stringify(data));
      } catch {
        /* a cache that cannot be written is only slower */
      }
    }
    return { source, errors };
  }

  static read(absPath: string, file: string): { source?: YamlSource; errors: Diagnostic[] } {
    return YamlSource.parse(file, readFileSync(absPath, 'utf8'));
  }

  /** Line of the key (or item) at `path`; falls back to the nearest ancestor that exists. */
  lineOf(path: readonly PathSegment[]): number | undefined {
    this.parsed ??= parseWithLines(this.text);
    const { doc, lines } = this.parsed;
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
