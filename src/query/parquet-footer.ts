/**
 * What a Parquet file's footer says: where the footer itself sits in the file (so byte counts can
 * tell metadata reads from column data reads), the per-row-group column chunk sizes and min/max
 * statistics (DuckDB's `parquet_metadata()`), and which row groups a filter can rule out by those
 * statistics.
 */
import { open } from 'node:fs/promises';
import { ClicklakeError } from '../errors.js';
import { quotedString } from '../base/sql.js';

/** `PAR1`: the magic at both ends of a Parquet file. */
const MAGIC = 'PAR1';
/** The tail of a Parquet file: 4-byte little-endian footer length, then the magic. */
const TAIL_BYTES = 8;

/** Byte range `[start, end)` of a file's metadata: the footer, its length and the closing magic. */
export interface FooterRange {
  start: number;
  end: number;
}

/**
 * Where the footer of a Parquet file starts and ends (the file's last bytes). Column data lies
 * between the leading magic (bytes 0-3) and `start`.
 *
 * @throws ClicklakeError `parquet_footer_invalid` when the file does not end with a Parquet footer.
 */
export async function parquetFooterRange(file: string): Promise<FooterRange> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(TAIL_BYTES);
    if (size >= TAIL_BYTES + MAGIC.length) await handle.read(tail, 0, TAIL_BYTES, size - TAIL_BYTES);
    const footerLength = tail.readUInt32LE(0);
    if (tail.subarray(4).toString('latin1') !== MAGIC || footerLength + TAIL_BYTES + MAGIC.length > size) {
      throw new ClicklakeError('parquet_footer_invalid', `${file} does not end with a Parquet footer: check that it is a complete Parquet file`, { file });
    }
    return { start: size - TAIL_BYTES - footerLength, end: size };
  } finally {
    await handle.close();
  }
}

/**
 * SQL listing every leaf column chunk of `files` with its row group, stored (compressed) size and
 * statistics (`parquet_metadata` over a literal file list: table functions take no parameters).
 * Statistics come as DuckDB renders the logical values (`stats_min_value`), so they cast back to
 * the column's type; they are NULL where the writer wrote none.
 */
export function columnChunksSql(files: string[]): string {
  return (
    'SELECT file_name, row_group_id, row_group_num_rows, path_in_schema, total_compressed_size, ' +
    'stats_min_value, stats_max_value, stats_null_count ' +
    `FROM parquet_metadata([${files.map(quotedString).join(', ')}])`
  );
}

// ---------------------------------------------------------------------------------------------
// Row group pruning: pushed-down filters against min/max statistics, as Athena prunes row groups

/** A node of DuckDB's serialized plan or expression (only the fields read are typed). */
export interface PlanNode {
  type: string;
  children?: PlanNode[];
  [field: string]: unknown;
}

/** A serialized DuckDB value: `{ type: { id }, is_null, value }`. */
interface PlanValue {
  type?: { id?: string };
  is_null?: boolean;
  value?: unknown;
}


/** Column types whose statistics are compared here, by DuckDB type id. */
const NUMERIC_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'FLOAT', 'DOUBLE']);
const TEMPORAL_TYPES = new Set(['DATE', 'TIMESTAMP', 'TIMESTAMP_MS', 'TIMESTAMP_S', 'TIMESTAMP WITH TIME ZONE']);
const STRING_TYPES = new Set(['VARCHAR']);
const TYPE_FAMILIES = [NUMERIC_TYPES, TEMPORAL_TYPES, STRING_TYPES, new Set(['BOOLEAN'])];

function familyOf(typeId: string): Set<string> | undefined {
  return TYPE_FAMILIES.find((family) => family.has(typeId));
}

/** A serialized constant as a SQL literal of its type; undefined when it cannot be written exactly. */
function literal(value: PlanValue | undefined): string | undefined {
  const id = value?.type?.id;
  const v = value?.value;
  if (id === undefined || value?.is_null !== false) return undefined;
  const int = typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
  if (id === 'VARCHAR' && typeof v === 'string') return quotedString(v);
  if (id === 'BOOLEAN' && typeof v === 'boolean') return v ? 'true' : 'false';
  if (NUMERIC_TYPES.has(id) && typeof v === 'number' && Number.isFinite(v)) {
    return id === 'FLOAT' || id === 'DOUBLE' || int !== undefined ? `CAST(${v} AS ${id})` : undefined;
  }
  if (int === undefined) return undefined;
  switch (id) {
    case 'DATE': // days since 1970-01-01
      return `CAST(DATE '1970-01-01' + ${int} AS DATE)`;
    case 'TIMESTAMP': // microseconds
      return `make_timestamp(CAST(${int} AS BIGINT))`;
    case 'TIMESTAMP_MS':
      return `CAST(epoch_ms(CAST(${int} AS BIGINT)) AS TIMESTAMP_MS)`;
    case 'TIMESTAMP_S':
      return `CAST(make_timestamp(CAST(${int} AS BIGINT) * 1000000) AS TIMESTAMP_S)`;
    case 'TIMESTAMP WITH TIME ZONE':
      return `(make_timestamp(CAST(${int} AS BIGINT)) AT TIME ZONE 'UTC')`;
    default:
      return undefined;
  }
}

/**
 * SQL expressions over one row group's statistics of one column: `lo`/`hi` (rendered min/max, or
 * cast to the column type), `nulls` (null count) and `rows` (the row group's rows).
 */
export interface ColumnStats {
  lo: string;
  hi: string;
  nulls: string;
  rows: string;
}

type Comparison = 'COMPARE_EQUAL' | 'COMPARE_NOTEQUAL' | 'COMPARE_LESSTHAN' | 'COMPARE_LESSTHANOREQUALTO' | 'COMPARE_GREATERTHAN' | 'COMPARE_GREATERTHANOREQUALTO';

const FLIPPED: Record<Comparison, Comparison> = {
  COMPARE_EQUAL: 'COMPARE_EQUAL',
  COMPARE_NOTEQUAL: 'COMPARE_NOTEQUAL',
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
};

/**
 * Can some value in [lo, hi] satisfy `value <op> k`? SQL three-valued: NULL means "cannot tell"
 * (no statistics, a cast that failed), which the caller reads as "may match". A chunk whose
 * values are all NULL matches no comparison.
 */
function comparisonMayMatch(op: string, k: string, s: ColumnStats): string | undefined {
  const range: Record<Comparison, string> = {
    COMPARE_EQUAL: `${s.lo} <= ${k} AND ${s.hi} >= ${k}`,
    COMPARE_NOTEQUAL: `NOT (${s.lo} = ${k} AND ${s.hi} = ${k})`,
    COMPARE_LESSTHAN: `${s.lo} < ${k}`,
    COMPARE_LESSTHANOREQUALTO: `${s.lo} <= ${k}`,
    COMPARE_GREATERTHAN: `${s.hi} > ${k}`,
    COMPARE_GREATERTHANOREQUALTO: `${s.hi} >= ${k}`,
  };
  const test = range[op as Comparison];
  return test === undefined ? undefined : `(CASE WHEN ${s.nulls} = ${s.rows} THEN false ELSE (${test}) END)`;
}

const isNullMayMatch = (s: ColumnStats) => `(${s.nulls} > 0)`;
const isNotNullMayMatch = (s: ColumnStats) => `(${s.nulls} < ${s.rows})`;

/**
 * AND / OR of "may match" predicates. An unreadable (undefined) part of an AND is dropped, since
 * the rest still rules row groups out; an OR with an unreadable part is unreadable.
 */
export function combineMayMatch(parts: Array<string | undefined>, op: 'AND' | 'OR'): string | undefined {
  // An unreadable part of an AND can be dropped (the rest still bounds it); of an OR it cannot.
  const known = parts.filter((p): p is string => p !== undefined);
  if (op === 'OR' && known.length < parts.length) return undefined;
  return known.length === 0 ? undefined : `(${known.join(` ${op} `)})`;
}

/** Statistics bounds cast to a type: TRY_CAST of the rendered min/max. */
function castStats(raw: { lo: string; hi: string; nulls: string; rows: string }, typeId: string): ColumnStats {
  return { ...raw, lo: `TRY_CAST(${raw.lo} AS ${typeId})`, hi: `TRY_CAST(${raw.hi} AS ${typeId})` };
}

/**
 * A DuckDB TableFilter on one column (as `json_serialize_plan` writes it) as SQL saying whether a
 * row group may hold a matching row, from its statistics: false only when the statistics rule
 * the row group out; NULL or undefined (filter not understood) mean "may match".
 */
export function tableFilterMayMatch(filter: Record<string, unknown>, raw: ColumnStats): string | undefined {
  switch (filter['filter_type']) {
    case 'CONSTANT_COMPARISON': {
      const constant = filter['constant'] as PlanValue | undefined;
      const k = literal(constant);
      const id = constant?.type?.id;
      return k === undefined || id === undefined || familyOf(id) === undefined
        ? undefined
        : comparisonMayMatch(String(filter['comparison_type']), k, castStats(raw, id));
    }
    case 'IN_FILTER': {
      const values = (filter['values'] as PlanValue[] | undefined) ?? [];
      return combineMayMatch(
        values.map((v) => {
          const k = literal(v);
          const id = v.type?.id;
          return k === undefined || id === undefined || familyOf(id) === undefined ? undefined : comparisonMayMatch('COMPARE_EQUAL', k, castStats(raw, id));
        }),
        'OR',
      );
    }
    case 'IS_NULL':
      return isNullMayMatch(raw);
    case 'IS_NOT_NULL':
      return isNotNullMayMatch(raw);
    case 'CONJUNCTION_AND':
    case 'CONJUNCTION_OR': {
      const children = (filter['child_filters'] as Array<Record<string, unknown>> | undefined) ?? [];
      return combineMayMatch(
        children.map((c) => tableFilterMayMatch(c, raw)),
        filter['filter_type'] === 'CONJUNCTION_AND' ? 'AND' : 'OR',
      );
    }
    case 'OPTIONAL_FILTER': // a true predicate DuckDB may skip evaluating: still valid for pruning
      return filter['child_filter'] ? tableFilterMayMatch(filter['child_filter'] as Record<string, unknown>, raw) : undefined;
    case 'EXPRESSION_FILTER':
      return expressionMayMatch(filter['expr'] as PlanNode | undefined, raw);
    default:
      return undefined; // dynamic (join) filters, struct field filters, ...: no pruning
  }
}

/**
 * The column side of an expression filter: the column reference under zero or more casts. Casts
 * are kept only when they preserve order (within numbers, within dates/timestamps), so min/max
 * of the cast values bound the cast column.
 */
function columnExpression(expr: PlanNode | undefined, raw: ColumnStats): ColumnStats | undefined {
  if (expr === undefined) return undefined;
  if (expr['expression_class'] === 'BOUND_REF') {
    const id = (expr['return_type'] as { id?: string } | undefined)?.id;
    return id !== undefined && familyOf(id) !== undefined ? castStats(raw, id) : undefined;
  }
  if (expr['expression_class'] === 'BOUND_CAST') {
    const child = expr['child'] as PlanNode | undefined;
    const from = (child?.['return_type'] as { id?: string } | undefined)?.id;
    const to = (expr['return_type'] as { id?: string } | undefined)?.id;
    const inner = columnExpression(child, raw);
    if (inner === undefined || from === undefined || to === undefined || familyOf(from) === undefined || familyOf(from) !== familyOf(to)) return undefined;
    return { ...inner, lo: `TRY_CAST(${inner.lo} AS ${to})`, hi: `TRY_CAST(${inner.hi} AS ${to})` };
  }
  return undefined;
}

function constantOf(expr: PlanNode | undefined): string | undefined {
  return expr?.['expression_class'] === 'BOUND_CONSTANT' ? literal(expr['value'] as PlanValue) : undefined;
}

/** An expression filter (comparison, BETWEEN, IN, IS [NOT] NULL, AND/OR) as "may match". */
function expressionMayMatch(expr: PlanNode | undefined, raw: ColumnStats): string | undefined {
  if (expr === undefined) return undefined;
  const type = String(expr.type);
  switch (expr['expression_class']) {
    case 'BOUND_COMPARISON': {
      const left = expr['left'] as PlanNode | undefined;
      const right = expr['right'] as PlanNode | undefined;
      const leftStats = columnExpression(left, raw);
      if (leftStats !== undefined) {
        const k = constantOf(right);
        return k === undefined ? undefined : comparisonMayMatch(type, k, leftStats);
      }
      const rightStats = columnExpression(right, raw);
      const k = constantOf(left);
      const flipped = FLIPPED[type as Comparison];
      return rightStats === undefined || k === undefined || flipped === undefined ? undefined : comparisonMayMatch(flipped, k, rightStats);
    }
    case 'BOUND_BETWEEN': {
      const s = columnExpression(expr['input'] as PlanNode | undefined, raw);
      const lower = constantOf(expr['lower'] as PlanNode | undefined);
      const upper = constantOf(expr['upper'] as PlanNode | undefined);
      if (s === undefined) return undefined;
      return combineMayMatch(
        [
          lower === undefined ? undefined : comparisonMayMatch(expr['lower_inclusive'] ? 'COMPARE_GREATERTHANOREQUALTO' : 'COMPARE_GREATERTHAN', lower, s),
          upper === undefined ? undefined : comparisonMayMatch(expr['upper_inclusive'] ? 'COMPARE_LESSTHANOREQUALTO' : 'COMPARE_LESSTHAN', upper, s),
        ],
        'AND',
      );
    }
    case 'BOUND_CONJUNCTION': {
      const children = (expr.children ?? []).map((c) => expressionMayMatch(c, raw));
      return type === 'CONJUNCTION_AND' ? combineMayMatch(children, 'AND') : type === 'CONJUNCTION_OR' ? combineMayMatch(children, 'OR') : undefined;
    }
    case 'BOUND_OPERATOR': {
      const [first, ...rest] = expr.children ?? [];
      const s = columnExpression(first, raw);
      if (s === undefined) return undefined;
      if (type === 'OPERATOR_IS_NULL') return isNullMayMatch(s);
      if (type === 'OPERATOR_IS_NOT_NULL') return isNotNullMayMatch(s);
      if (type === 'COMPARE_IN') {
        return combineMayMatch(
          rest.map((c) => {
            const k = constantOf(c);
            return k === undefined ? undefined : comparisonMayMatch('COMPARE_EQUAL', k, s);
          }),
          'OR',
        );
      }
      return undefined;
    }
    default:
      return undefined; // functions of the column (lower(x) = 'a'), ...: no pruning
  }
}
