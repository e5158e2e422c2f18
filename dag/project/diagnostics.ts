/** A problem a user can cause and fix: where it is, what rule it breaks, how to fix it. */
export interface Diagnostic {
  /** Stable machine-readable rule name, e.g. `duplicate-state-id`. */
  code: string;
  /** Project-relative file the problem is in. */
  file: string;
  /** 1-based line in `file`, when known. */
  line?: number;
  /** JSON pointer (or dotted key path) inside `file`, when known. */
  pointer?: string;
  message: string;
  fix?: string;
}

/** Exit codes of ORCHESTRATOR.md §12. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, refused: 3 } as const;

/** An error carrying user-facing diagnostics; printed without a stack unless --verbose. */
export class DagError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly exitCode: number = EXIT.invalid,
  ) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'DagError';
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line !== undefined ? `${d.file}:${d.line}` : d.file;
  const at = d.pointer ? ` at ${d.pointer}` : '';
  const fix = d.fix ? `\n    fix: ${d.fix}` : '';
  return `${where}${at}: ${d.message} [${d.code}]${fix}`;
}

/** Collects diagnostics so that every problem is reported at once, not the first only. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  /** Adds a problem; the same problem reached twice (a schema shared by many states) is kept once. */
  add(d: Diagnostic): void {
    const key = `${d.code}|${d.file}|${d.line}|${d.pointer}|${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(d);
  }
  get ok(): boolean {
    return this.items.length === 0;
  }
  throwIfAny(): void {
    if (this.items.length > 0) throw new DagError(this.items);
  }
}
