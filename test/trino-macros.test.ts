/**
 * Each expected value is Trino's documented (or Trino-test-suite) answer, cited beside it:
 *   datetime.md  = trinodb/trino docs/src/main/sphinx/functions/datetime.md (trino.io/docs/current/functions/datetime.html)
 *   regexp.md    = .../functions/regexp.md, string.md, map.md, array.md, aggregate.md, math.md likewise
 *   regexp tests = core/trino-main/src/test/java/io/trino/operator/scalar/AbstractTestRegexpFunctions.java
 * and each is checked against what plain DuckDB answers, so a test fails if the macro stops being
 * needed or stops shadowing the built-in.
 */
import { describe, expect, it } from 'vitest';
import { withDuckDB } from '../src/base/duckdb.js';
import { installTrinoMacros, TRINO_COMPAT_MACROS } from '../src/query/trino-macros.js';

/** Runs one query, with or without the Trino macros, and returns its single row as JS values. */
async function row(sql: string, withMacros = true): Promise<unknown[]> {
  return withDuckDB(async (conn) => {
    if (withMacros) await installTrinoMacros(conn);
    const rows = (await conn.runAndReadAll(sql)).getRowsJS();
    expect(rows).toHaveLength(1);
    return rows[0]!;
  });
}

async function columnType(sql: string): Promise<string> {
  return withDuckDB(async (conn) => {
    await installTrinoMacros(conn);
    return String((await conn.runAndReadAll(sql)).columnTypes()[0]);
  });
}

async function failure(sql: string): Promise<string> {
  return withDuckDB(async (conn) => {
    await installTrinoMacros(conn);
    try {
      await conn.runAndReadAll(sql);
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  });
}

describe('Trino-compatible macros on DuckDB', () => {
  it('installs one CREATE OR REPLACE MACRO per function', () => {
    for (const statement of TRINO_COMPAT_MACROS) expect(statement).toMatch(/^CREATE OR REPLACE MACRO [a-z_0-9]+\(/);
    const names = TRINO_COMPAT_MACROS.map((s) => /MACRO ([a-z_0-9]+)\(/.exec(s)![1]);
    expect(names).toEqual(expect.arrayContaining([
      'approx_distinct', 'from_iso8601_timestamp', 'date_format', 'element_at', 'regexp_extract', 'split_part', 'date_diff',
    ]));
  });

  it('approx_distinct counts distinct non-null values', async () => {
    // aggregate.md: approx_distinct(x) -> bigint, "the approximate number of distinct input values";
    // aggregate functions ignore nulls. Exact on a 3-value input (Trino's HLL is exact at this size).
    expect(await row('SELECT approx_distinct(x) FROM (VALUES (1), (1), (2), (NULL), (3)) t(x)')).toEqual([3n]);
    expect(await columnType('SELECT approx_distinct(x) FROM (VALUES (1)) t(x)')).toBe('BIGINT');
  });

  it('count_if returns bigint (DuckDB: HUGEINT)', async () => {
    // aggregate.md: count_if(x) -> bigint, "Returns the number of TRUE input values".
    expect(await row('SELECT count_if(x > 1) FROM (VALUES (1), (2), (3), (NULL)) t(x)')).toEqual([2n]);
    expect(await columnType('SELECT count_if(x > 1) FROM (VALUES (1)) t(x)')).toBe('BIGINT');
  });

  it('from_iso8601_timestamp parses offsets, dates without time, and defaults to the session zone (UTC)', async () => {
    // datetime.md: from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00') -> 2020-05-11 11:15:05.055 +01:00
    //              from_iso8601_timestamp('2020-05-11') -> 2020-05-11 00:00:00.000 <session zone>
    const [withOffset, dateOnly, noZone] = await row(
      "SELECT from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00'), from_iso8601_timestamp('2020-05-11'), from_iso8601_timestamp('2020-05-11T11:15:05')",
    );
    expect((withOffset as Date).getTime()).toBe(Date.UTC(2020, 4, 11, 10, 15, 5, 55));
    expect((dateOnly as Date).getTime()).toBe(Date.UTC(2020, 4, 11));
    expect((noZone as Date).getTime()).toBe(Date.UTC(2020, 4, 11, 11, 15, 5));
  });

  it('date_format uses MySQL specifiers: %i is minutes, %M the month name, %s seconds', async () => {
    // datetime.md: date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H') -> '10-20-2022 05'
    expect(await row("SELECT date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')")).toEqual(['10-20-2022 05']);
    // datetime.md specifier table: %i minutes (00..59), %s seconds, %M month name, %W weekday name,
    // %e day without padding, %f fraction printed with 6 digits, %T = %H:%i:%s, %% a literal %.
    expect(await row("SELECT date_format(TIMESTAMP '2022-10-20 05:10:07.123', '%Y-%m-%d %H:%i:%s')")).toEqual(['2022-10-20 05:10:07']);
    expect(await row("SELECT date_format(TIMESTAMP '2022-10-05 15:04:07.123', '%M %W %e %f %T %h%p 100%%')")).toEqual([
      'October Wednesday 5 123000 15:04:07 03PM 100%',
    ]);
    // datetime.md: "%x  x, for any x not listed above"
    expect(await row("SELECT date_format(TIMESTAMP '2022-10-20 05:10:00', 'at %H%q')")).toEqual(['at 05q']);
    // Functions return NULL for a NULL input.
    expect(await row("SELECT date_format(NULL::TIMESTAMP, '%Y')")).toEqual([null]);
  });

  it('date_format rejects the specifiers Trino does not support', async () => {
    // datetime.md: "The following specifiers are not currently supported: %D %U %u %V %w %X"
    expect(await failure("SELECT date_format(TIMESTAMP '2022-10-20 05:10:00', '%D')")).toMatch(/%D is not supported/);
  });

  it('element_at returns NULL for a missing map key and an array index past the end (1-based, negative from the end)', async () => {
    // map.md: element_at(map(K,V), key) -> V "Returns value for given key, or NULL if the key is not contained in the map."
    // array.md: element_at(array(E), index) "returns NULL when accessing an index larger than array length";
    //           "If index < 0, element_at accesses elements from the last to the first."
    expect(
      await row("SELECT element_at(MAP {'a': '1'}, 'a'), element_at(MAP {'a': '1'}, 'b'), element_at([10, 20, 30], 1), element_at([10, 20, 30], 4), element_at([10, 20, 30], -1)"),
    ).toEqual(['1', null, 10, null, 30]);
    // Plain DuckDB's element_at on a map returns a list, not the value.
    expect(await row("SELECT element_at(MAP {'a': '1'}, 'a')", false)).toEqual([['1']]);
  });

  it('regexp_extract returns NULL when the pattern does not match (DuckDB: empty string)', async () => {
    // regexp.md: regexp_extract('1a 2b 14m', '\d+') -> 1; regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2) -> 'a'
    expect(await row("SELECT regexp_extract('1a 2b 14m', '\\d+'), regexp_extract('1a 2b 14m', '(\\d+)([a-z]+)', 2)")).toEqual(['1', 'a']);
    // regexp tests: regexp_extract('Hello world bye', '\b[a-z]([a-z]*)') -> 'world', group 1 -> 'orld',
    //               regexp_extract('12345', 'x') -> NULL
    expect(
      await row("SELECT regexp_extract('Hello world bye', '\\b[a-z]([a-z]*)'), regexp_extract('Hello world bye', '\\b[a-z]([a-z]*)', 1), regexp_extract('12345', 'x')"),
    ).toEqual(['world', 'orld', null]);
    expect(await row("SELECT regexp_extract('12345', 'x')", false)).toEqual(['']);
  });

  it('split_part returns NULL past the last field and fails for an index below 1', async () => {
    // string.md: split_part(string, delimiter, index) "Field indexes start with 1. If the index is
    // larger than the number of fields, then null is returned."
    expect(await row("SELECT split_part('a,b,c', ',', 2), split_part('a,b,c', ',', 4), split_part('a,,c', ',', 2)")).toEqual(['b', null, '']);
    expect(await row("SELECT split_part('a,b,c', ',', 4)", false)).toEqual(['']);
    // Trino fails with "Index must be greater than zero" (StringFunctions.splitPart).
    expect(await failure("SELECT split_part('a,b,c', ',', 0)")).toMatch(/Index must be greater than zero/);
  });

  it('date_diff counts whole units elapsed, not boundaries crossed', async () => {
    // datetime.md: date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00') -> 86400
    //              date_diff('hour', ... same ...) -> 24; date_diff('day', DATE '2020-03-01', DATE '2020-03-02') -> 1
    //              date_diff('millisecond', TIMESTAMP '2020-06-01 12:30:45.000000000', TIMESTAMP '2020-06-02 12:30:45.123456789') -> 86400123
    expect(
      await row(
        "SELECT date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00'), " +
          "date_diff('hour', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00'), " +
          "date_diff('day', DATE '2020-03-01', DATE '2020-03-02'), " +
          "date_diff('millisecond', TIMESTAMP '2020-06-01 12:30:45.000', TIMESTAMP '2020-06-02 12:30:45.123456')",
      ),
    ).toEqual([86400n, 24n, 1n, 86400123n]);
    // Trino computes Joda's DurationField.getDifferenceAsLong (io.trino.operator.scalar.timestamp.DateDiff):
    // 23:45:09 -> next day 03:56:31 is 4 hours, 0 whole days; a month elapses only when the day and
    // time are reached again (2021-02-28 12:00 -> 2021-03-28 11:59:59 is 0 months).
    const sql =
      "SELECT date_diff('day', TIMESTAMP '2022-05-01 23:45:09', TIMESTAMP '2022-05-02 03:56:31'), " +
      "date_diff('month', TIMESTAMP '2021-02-28 12:00:00', TIMESTAMP '2021-03-28 11:59:59'), " +
      "date_diff('day', TIMESTAMP '2022-05-02 03:56:31', TIMESTAMP '2022-05-01 03:56:32')";
    expect(await row(sql)).toEqual([0n, 0n, 0n]);
    // DuckDB's built-in counts boundaries crossed: the macro really shadows it.
    expect(await row(sql, false)).toEqual([1n, 1n, -1n]);
  });

  it('integer division truncates toward zero like Trino', async () => {
    // math.md operators: "/ Division (integer division performs truncation)"
    expect(await row('SELECT 5 / 2, -5 / 2, CAST(5 AS double) / 2')).toEqual([2, -2, 2.5]);
    expect(await row('SELECT 5 / 2', false)).toEqual([2.5]);
  });
});
