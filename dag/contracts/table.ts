import { z } from 'zod';

/** The table-schema dialect of ORCHESTRATOR.md §4. */
export const columnTypes = ['uint64', 'int64', 'int32', 'double', 'string', 'bool', 'date', 'timestamp', 'json'] as const;
export type ColumnType = (typeof columnTypes)[number];

const column = z.strictObject({
  type: z.enum(columnTypes),
  nullable: z.boolean().default(false),
  enum: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  pattern: z.string().optional(),
  description: z.string().optional(),
});

export const tableSchemaSchema = z
  .strictObject({
    type: z.literal('table'),
    description: z.string().optional(),
    columns: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name is a SQL identifier'), column).refine((c) => Object.keys(c).length > 0, 'a table needs at least one column'),
    primary_key: z.array(z.string()).min(1).optional(),
    unique: z.array(z.array(z.string()).min(1)).optional(),
  })
  .superRefine((t, ctx) => {
    const names = new Set(Object.keys(t.columns));
    const checkCols = (cols: string[], path: (string | number)[]) =>
      cols.forEach((c, i) => {
        if (!names.has(c)) ctx.addIssue({ code: 'custom', path: [...path, i], message: `column '${c}' is not in columns` });
      });
    if (t.primary_key) checkCols(t.primary_key, ['primary_key']);
    t.unique?.forEach((u, i) => checkCols(u, ['unique', i]));
    for (const [name, col] of Object.entries(t.columns)) {
      if (col.pattern !== undefined) {
        try {
          new RegExp(col.pattern);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['columns', name, 'pattern'], message: `not a valid regular expression: ${col.pattern}` });
        }
      }
      if (col.minimum !== undefined && col.maximum !== undefined && col.minimum > col.maximum) {
        ctx.addIssue({ code: 'custom', path: ['columns', name], message: `minimum ${col.minimum} is above maximum ${col.maximum}` });
      }
    }
  });

export type TableSchema = z.infer<typeof tableSchemaSchema>;
export type ColumnSpec = TableSchema['columns'][string];

/** The DuckDB type a column type must have in a published Parquet file. */
export const duckdbTypeOf: Record<ColumnType, string> = {
  uint64: 'UBIGINT',
  int64: 'BIGINT',
  int32: 'INTEGER',
  double: 'DOUBLE',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  json: 'JSON',
};

export function isTableSchema(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'table';
}
