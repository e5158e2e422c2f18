import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

export type PathSegment = string | number;

/** A parsed YAML (or JSON) file that can say on which line any value sits. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly data: unknown,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; syntax errors come back as diagnostics naming `file` and the line. */
  static parse(file: string, text: string): { source?: YamlSource; errors: Diagnostic[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const errors: Diagnostic[] = doc.errors.map((e) => ({
      code: 'yaml-syntax',
      file,
      line: lines.linePos(e.pos[0]).line,
      message: `YAML syntax: ${e.message.split('\n')[0]}`,
    }));
    if (errors.length > 0) return { errors };
    return { source: new YamlSource(file, doc.toJS({ maxAliasCount: 1000 }), doc, lines), errors };
  }

  static read(absPath: string, file: string): { source?: YamlSource; errors: Diagnostic[] } {
    return YamlSource.parse(file, readFileSync(absPath, 'utf8'));
  }

  /** Line of the key (or item) at `path`; falls back to the nearest ancestor that exists. */
  lineOf(path: readonly PathSegment[]): number | undefined {
    let node: unknown = this.doc.contents;
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
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }
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
