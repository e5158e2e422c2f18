import { Option } from 'commander';

/** How a table is laid out: the width it must fit (undefined: as wide as its cells) and its free-text columns. */
export interface TableLayout {
  width?: number;
  /** Headers of the free-text columns (REASON, LABELS): they give up their width before the others do. */
  free?: string[];
}

/** A free-text column keeps at least this many characters (or its header's) before the other columns shrink. */
const FREE_FLOOR = 12;
/** Any column keeps at least this many (an 8-character run id prefix still names a run) before headers decide. */
const FLOOR = 8;
const GAP = 2;

/** `--wide`, declared once for every command that prints a table. */
export const wideOption = () => new Option('--wide', 'print table cells in full, however wide the terminal');

/**
 * The width a table must fit: a terminal's columns; when stdout is not a terminal, $COLUMNS if set
 * (a script asking for a width), else none, so a pipe or a file gets every cell in full. `--wide`: none.
 */
export function tableWidth(flags: { wide?: boolean }, stdout: { isTTY?: boolean; columns?: number } = process.stdout, env = process.env): number | undefined {
  if (flags.wide) return undefined;
  const fromEnv = /^\d+$/.test(env.COLUMNS ?? '') && Number(env.COLUMNS) > 0 ? Number(env.COLUMNS) : undefined;
  if (stdout.isTTY) return stdout.columns || fromEnv || 80;
  return fromEnv;
}

/**
 * Column widths that fit `width`, the widest column giving up a character at a time: free-text
 * columns first (down to 12 characters), then every column down to 8, then down to its header,
 * then headers too (a table never overflows while each column can keep one character).
 */
export function fitWidths(natural: number[], headers: string[], width: number | undefined, free: boolean[]): number[] {
  if (width === undefined) return natural;
  const budget = width - GAP * (natural.length - 1);
  const w = [...natural];
  const shrink = (which: (i: number) => boolean, floor: (i: number) => number) => {
    let over = w.reduce((a, b) => a + b, 0) - budget;
    while (over > 0) {
      // the widest column that may still give up a character
      let widest = -1;
      for (let i = 0; i < w.length; i++) if (which(i) && w[i]! > floor(i) && (widest < 0 || w[i]! > w[widest]!)) widest = i;
      if (widest < 0) return;
      w[widest]!--;
      over--;
    }
  };
  const atLeast = (floor: number) => (i: number) => Math.min(natural[i]!, Math.max(headers[i]!.length, floor));
  shrink((i) => free[i]!, atLeast(FREE_FLOOR));
  shrink(() => true, atLeast(FLOOR));
  shrink(() => true, atLeast(1));
  shrink(() => true, () => 1);
  return w;
}

/** A cell cut to `width` characters, its last one `…` when anything was cut. */
export function truncate(cell: string, width: number): string {
  return cell.length <= width ? cell : width <= 0 ? '' : cell.slice(0, width - 1) + '…';
}

/** A plain text table with left-aligned columns, fitted to `layout.width` when one is given. */
export function table(header: string[], rows: string[][], layout: TableLayout = {}): string {
  const natural = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const widths = fitWidths(natural, header, layout.width, header.map((h) => layout.free?.includes(h) ?? false));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => truncate(c, widths[i]!))
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
