/**
 * DuckDB macros that give Trino's (Athena engine v3) semantics where DuckDB differs, so that the
 * curated views, written in pure Trino SQL, run unchanged on the local engine.
 *
 * How the names are made to work (checked on DuckDB 1.5.6, see test/trino-macros.test.ts):
 * a macro created in the `main` schema SHADOWS a built-in function of the same name — DuckDB
 * looks a function name up in the search path (`main` first) before the system catalog. So the
 * macros keep Trino's names (`date_diff`, `split_part`, ...) and no SQL rewriting is needed.
 * Inside a macro, the built-in it shadows is reached as `system.main.<name>` (calling the bare
 * name would call the macro itself).
 *
 * What cannot be made identical (documented, not emulated):
 * - Integer division: `/` cannot be redefined. {@link TRINO_COMPAT_SETTINGS} turns on DuckDB's
 *   `integer_division` setting, after which `5 / 2 = 2` and `-5 / 2 = -2` on integers like Trino.
 *   Division by zero still gives NULL locally where Trino fails the query. Views that want a
 *   fraction must say so: `CAST(a AS double) / b`.
 * - `sum(bigint)` is HUGEINT in DuckDB (bigint in Trino); the local engine converts values to JS
 *   numbers, so callers see the same numbers.
 * - `greatest`/`least`: Trino returns NULL if any argument is NULL, DuckDB skips NULLs; a macro
 *   cannot be variadic. Views use `coalesce(greatest(a, b), a, b)`, which agrees on both.
 * - `approx_distinct` is exact locally (Trino's has a 2.3% standard error).
 * - Regular expressions are RE2 locally and java.util.regex on Trino; keep patterns to the
 *   common subset.
 * - `from_iso8601_timestamp` keeps the instant but not the written offset (DuckDB TIMESTAMPTZ is
 *   an instant shown in the session zone, UTC), so `date_format` of it formats in UTC.
 * - `element_at(array, 0)` and `split_part(s, d, 0)`: Trino fails; locally element_at gives NULL
 *   and split_part fails like Trino.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quotedString } from '../base/sql.js';

/**
 * Trino `date_format` specifier -> DuckDB `strftime` specifier. Trino's list (datetime.md, "MySQL
 * date functions"); `%v`/`%x` are the ISO week and its year. Specifiers Trino rejects are listed
 * in {@link UNSUPPORTED_DATE_FORMAT_SPECIFIERS}; any other `%c` prints `c`, as in Trino.
 */
const DATE_FORMAT_SPECIFIERS: ReadonlyArray<[trino: string, duckdb: string]> = [
  ['%a', '%a'],
  ['%b', '%b'],
  ['%c', '%-m'],
  ['%d', '%d'],
  ['%e', '%-d'],
  ['%f', '%f'],
  ['%H', '%H'],
  ['%h', '%I'],
  ['%I', '%I'],
  ['%i', '%M'],
  ['%j', '%j'],
  ['%k', '%-H'],
  ['%l', '%-I'],
  ['%M', '%B'],
  ['%m', '%m'],
  ['%p', '%p'],
  ['%r', '%I:%M:%S %p'],
  ['%S', '%S'],
  ['%s', '%S'],
  ['%T', '%H:%M:%S'],
  ['%v', '%V'],
  ['%W', '%A'],
  ['%x', '%G'],
  ['%Y', '%Y'],
  ['%y', '%y'],
  ['%%', '%%'],
];

/** Trino: "The following specifiers are not currently supported: %D %U %u %V %w %X". */
const UNSUPPORTED_DATE_FORMAT_SPECIFIERS = ['%D', '%U', '%u', '%V', '%w', '%X'];

/**
 * The format is split into `%x` tokens and literal runs; each `%x` token is formatted on its own
 * with a constant strftime format (DuckDB's strftime needs a constant format, Trino's format may
 * be any expression). Literal runs pass through; an unknown `%c` prints `c`, as in Trino.
 */
function dateFormatMacro(): string {
  const tok = 'trino_fmt_tok';
  const value = "date_trunc('millisecond', ts)"; // Trino's %f prints milliseconds padded to six digits
  const cases = DATE_FORMAT_SPECIFIERS.map(([trino, duckdb]) => `WHEN ${quotedString(trino)} THEN strftime(${value}, ${quotedString(duckdb)})`).join(' ');
  const unsupported = UNSUPPORTED_DATE_FORMAT_SPECIFIERS.map(quotedString).join(', ');
  const formatted =
    `CASE WHEN ${tok} IN (${unsupported}) ` +
    `THEN error('date_format: specifier ' || ${tok} || ' is not supported (Trino rejects it)') ` +
    `WHEN ${tok}[1] <> '%' THEN ${tok} ` +
    `ELSE CASE ${tok} ${cases} ELSE ${tok}[2] END END`;
  return (
    `CREATE OR REPLACE MACRO date_format(ts, fmt) AS CASE WHEN ts IS NOT NULL THEN ` +
    `array_to_string([${formatted} FOR ${tok} IN regexp_extract_all(fmt, '%.|[^%]+')], '') END`
  );
}

/**
 * `CREATE OR REPLACE MACRO` statements, one per Trino function whose DuckDB namesake differs or
 * is missing. Install them with {@link installTrinoMacros}.
 */
export const TRINO_COMPAT_MACROS: string[] = [
  // Trino: approximate count of distinct non-null values. Exact here.
  'CREATE OR REPLACE MACRO approx_distinct(x) AS count(DISTINCT x)',
  // Trino: count_if returns bigint; DuckDB's returns HUGEINT.
  'CREATE OR REPLACE MACRO count_if(x) AS count(CASE WHEN x THEN 1 END)',
  // Trino: timestamp(3) with time zone, time defaults to 00:00, zone to the session zone (UTC here).
  "CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS date_trunc('millisecond', CAST(s AS TIMESTAMPTZ))",
  dateFormatMacro(),
  // Trino: NULL for a missing map key or an array index past the end; DuckDB's element_at
  // returns a list. Subscript gives Trino's answer for both maps and (1-based) arrays.
  'CREATE OR REPLACE MACRO element_at(container, key) AS container[key]',
  // Trino: NULL when the pattern does not match; DuckDB returns ''.
  'CREATE OR REPLACE MACRO regexp_extract(s, pattern) AS CASE WHEN regexp_matches(s, pattern) THEN system.main.regexp_extract(s, pattern) END, ' +
    '(s, pattern, grp) AS CASE WHEN regexp_matches(s, pattern) THEN system.main.regexp_extract(s, pattern, grp) END',
  // Trino: NULL when the index is past the last field, an error when it is < 1; DuckDB returns ''
  // past the end and counts negative indexes from the end.
  "CREATE OR REPLACE MACRO split_part(s, delimiter, idx) AS CASE WHEN idx < 1 THEN error('split_part: Index must be greater than zero') " +
    'WHEN idx > len(string_split(s, delimiter)) THEN NULL ELSE system.main.split_part(s, delimiter, idx) END',
  // Trino: whole units elapsed (Joda getDifferenceAsLong, truncated toward zero); DuckDB's
  // date_diff counts unit boundaries crossed. DuckDB's date_sub counts whole units like Trino.
  'CREATE OR REPLACE MACRO date_diff(unit, t1, t2) AS date_sub(unit, t1, t2)',
];

/** Session settings for Trino semantics that are not functions. */
export const TRINO_COMPAT_SETTINGS: string[] = [
  // Trino: integer / integer is integer division truncated toward zero.
  'SET integer_division = true',
];

/**
 * Installs {@link TRINO_COMPAT_MACROS} and {@link TRINO_COMPAT_SETTINGS} on a connection. After
 * this, Trino SQL runs on the connection with Trino's answers for the functions listed.
 *
 * @example
 * await withDuckDB(async (conn) => {
 *   await installTrinoMacros(conn);
 *   await conn.run("SELECT split_part('a,b', ',', 3)"); // NULL, as in Trino
 * });
 */
export async function installTrinoMacros(conn: DuckDBConnection): Promise<void> {
  for (const statement of [...TRINO_COMPAT_SETTINGS, ...TRINO_COMPAT_MACROS]) {
    await conn.run(statement);
  }
}
