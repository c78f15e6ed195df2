import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HiveSQL } from 'dt-sql-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableInputs } from '../src/catalog/table-input.js';
import { main } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/io.js';
import { DEFAULT_LAYOUT } from '../src/partitions/layout.js';
import { loadSchemas } from '../src/schema/load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-cli-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with buffers, in an empty working directory with no environment. */
async function run(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    cwd: work,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The statements of `catalog ddl` output. */
const statements = (out: string): string[] => out.split(/;\n/).map((s) => s.trim()).filter((s) => s !== '').map((s) => `${s};`);

const GOOD = {
  type: 'object',
  'x-lake': { table: 'clicks', eventTime: 'ts', eventId: 'id', partitionStart: '2024-01-01', sortKeys: ['ts'] },
  required: ['id', 'ts'],
  properties: { id: { type: 'string' }, ts: { type: 'string', format: 'date-time' } },
};

describe('clicklake --version', () => {
  it('prints the package version on stdout and exits 0', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await run(flag);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });
});

describe('clicklake schema lint', () => {
  it('passes the shipped schemas by default', async () => {
    const r = await run('schema', 'lint');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok .*click_event\.schema\.json\n$/);
    expect(r.stderr).toBe('');
  });

  it('passes a good file given by relative path', async () => {
    await writeFile(path.join(work, 'clicks.schema.json'), JSON.stringify(GOOD));
    const r = await run('schema', 'lint', 'clicks.schema.json');
    expect(r).toEqual({ code: 0, stdout: 'ok clicks.schema.json\n', stderr: '' });
  });

  it('fails a bad file with exit 1, one line per issue with its pointer', async () => {
    const bad = { ...GOOD, 'x-lake': { ...GOOD['x-lake'], partitionStart: '2024-02-30' }, properties: { ...GOOD.properties, tags: { type: 'object', patternProperties: { x: { type: 'string' } } } } };
    await writeFile(path.join(work, 'bad.schema.json'), JSON.stringify(bad));
    await writeFile(path.join(work, 'good.schema.json'), JSON.stringify(GOOD));
    const r = await run('schema', 'lint', 'bad.schema.json', 'good.schema.json');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      'bad.schema.json: #/properties/tags/patternProperties: keyword "patternProperties" is not supported: use additionalProperties with one value schema (a map column) instead',
      'bad.schema.json: #/x-lake/partitionStart: x-lake.partitionStart "2024-02-30" must be a real date written YYYY-MM-DD',
      'ok good.schema.json',
      '',
    ]);
    expect(r.stderr).toBe('1 of 2 schema file(s) have problems\n');
  });

  it('--schemas lints a directory, --json prints the issues as JSON', async () => {
    await writeFile(path.join(work, 'a.schema.json'), JSON.stringify({ ...GOOD, required: ['id', 'ts', 'ghost'] }));
    await writeFile(path.join(work, 'notes.json'), '{"ignored": true}');
    const r = await run('schema', 'lint', '--schemas', '.', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Array<{ file: string; issues: Array<{ pointer: string; code: string }> }>;
    expect(report).toHaveLength(1);
    expect(report[0]!.file).toBe(path.join(work, 'a.schema.json'));
    expect(report[0]!.issues).toContainEqual(expect.objectContaining({ pointer: '#/required/2', code: 'required_not_declared' }));
    // Ajv's strictRequired refuses it too.
    expect(report[0]!.issues.map((i) => i.code).sort()).toEqual(['ajv_rejected', 'required_not_declared']);
  });

  it('a file that is not JSON is a one-line user error', async () => {
    await writeFile(path.join(work, 'broken.schema.json'), '{ "type": ');
    const r = await run('schema', 'lint', 'broken.schema.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*broken\.schema\.json is not valid JSON: .*\n$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a missing file is a one-line user error', async () => {
    const r = await run('schema', 'lint', 'nope.schema.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot read schema .*nope\.schema\.json: ENOENT\n$/);
  });
});

describe('clicklake catalog ddl', () => {
  it('prints the raw and curated statements, which parse with the Hive grammar', async () => {
    const r = await run('catalog', 'ddl', '--bucket', 'my-lake');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const sqls = statements(r.stdout);
    expect(sqls).toHaveLength(2);
    expect(sqls[0]).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `clicklake`\.`click_events_raw` \(/);
    expect(sqls[1]).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `clicklake`\.`click_events` \(/);
    expect(sqls[0]).toContain("'storage.location.template'='s3://my-lake/raw/click_events/${dt}/'");
    expect(sqls[1]).toContain("'storage.location.template'='s3://my-lake/curated/click_events/dt=${dt}/'");
    const hive = new HiveSQL();
    for (const sql of sqls) expect(hive.validate(sql), sql).toEqual([]);
  });

  it('--table click_events_raw prints only the raw table', async () => {
    const r = await run('catalog', 'ddl', '--bucket', 'my-lake', '--table', 'click_events_raw');
    expect(r.code).toBe(0);
    const sqls = statements(r.stdout);
    expect(sqls).toHaveLength(1);
    expect(sqls[0]).toContain('`click_events_raw`');
    expect(new HiveSQL().validate(sqls[0]!)).toEqual([]);
  });

  it('--table click_events prints both tables of the schema', async () => {
    const r = await run('catalog', 'ddl', '--bucket', 'my-lake', '--table', 'click_events');
    expect(statements(r.stdout)).toHaveLength(2);
  });

  it('--prefix, --database and --compression reach the statements', async () => {
    const r = await run('catalog', 'ddl', '--bucket', 'my-lake', '--prefix', 'prod/lake', '--database', 'Analytics', '--compression', 'snappy');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("LOCATION 's3://my-lake/prod/lake/curated/click_events/'");
    expect(r.stdout).toContain('`analytics`.`click_events`');
    expect(r.stdout).toContain("'parquet.compression'='SNAPPY'");
  });

  it('without a bucket: exit 1, one line saying how to set it, no stack trace', async () => {
    const r = await run('catalog', 'ddl');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: no S3 bucket configured for the Glue tables: pass --bucket <name> or set "lake": "s3://bucket/prefix" (or "bucket") in clicklake.config.json\n',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown table: exit 1, naming the known tables', async () => {
    const r = await run('catalog', 'ddl', '--bucket', 'b', '--table', 'clicks');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: no schema declares table "clicks"; known tables: click_events\n');
  });

  it('reads the bucket from clicklake.config.json in the working directory', async () => {
    await writeFile(path.join(work, 'clicklake.config.json'), JSON.stringify({ lake: 's3://cfg-bucket/some/prefix' }));
    const r = await run('catalog', 'ddl', '--table', 'click_events');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("LOCATION 's3://cfg-bucket/some/prefix/raw/click_events/'");
  });

  it('--schemas points at another schema directory', async () => {
    await writeFile(path.join(work, 'clicks.schema.json'), JSON.stringify({ ...GOOD, properties: { ...GOOD.properties, position: { type: 'integer', minimum: 0, maximum: 9 } } }));
    const r = await run('catalog', 'ddl', '--bucket', 'b', '--schemas', '.');
    expect(r.code).toBe(0);
    const sqls = statements(r.stdout);
    expect(sqls.map((s) => /`(\w+)` \(/.exec(s)?.[1])).toEqual(['clicks_raw', 'clicks']);
    expect(sqls[1]).toContain('\n  `position` int');
    for (const sql of sqls) expect(new HiveSQL().validate(sql)).toEqual([]);
  });
});

describe('clicklake catalog table-input', () => {
  it('prints JSON equal to tableInputs()', async () => {
    const r = await run('catalog', 'table-input', '--bucket', 'b');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as unknown;
    const specs = await loadSchemas();
    const expected = specs.flatMap((s) => tableInputs(s, { bucket: 'b', layout: DEFAULT_LAYOUT, compression: 'ZSTD' }));
    expect(printed).toEqual(JSON.parse(JSON.stringify(expected)));
    expect((printed as Array<{ Name: string }>).map((t) => t.Name)).toEqual(['click_events_raw', 'click_events']);
  });

  it('--table selects one table', async () => {
    const r = await run('catalog', 'table-input', '--bucket', 'b', '--table', 'click_events_raw');
    expect((JSON.parse(r.stdout) as Array<{ Name: string }>).map((t) => t.Name)).toEqual(['click_events_raw']);
  });

  it('without a bucket: exit 1 and one line', async () => {
    const r = await run('catalog', 'table-input');
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^error: no S3 bucket configured for the Glue tables: pass --bucket <name>/), '']);
  });

  it('an unknown table: exit 1, naming the known tables', async () => {
    const r = await run('catalog', 'table-input', '--bucket', 'b', '--table', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('known tables: click_events');
  });

  it('a bad --compression is a one-line user error', async () => {
    const r = await run('catalog', 'table-input', '--bucket', 'b', '--compression', 'brotli');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: --compression brotli is not supported: use ZSTD or SNAPPY (Athena reads both)\n');
  });
});

describe('help and usage', () => {
  it.each([
    [['--help'], /Usage: clicklake/],
    [['schema', '--help'], /Usage: clicklake schema/],
    [['schema', 'lint', '--help'], /Usage: clicklake schema lint .*--schemas <dir>/s],
    [['catalog', '--help'], /Usage: clicklake catalog.*ddl.*table-input/s],
    [['catalog', 'ddl', '--help'], /Usage: clicklake catalog ddl .*--bucket <name>.*--table <name>/s],
    [['catalog', 'table-input', '--help'], /Usage: clicklake catalog table-input .*--bucket <name>/s],
  ])('%j exits 0 and prints usage', async (argv, usage) => {
    const r = await run(...argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stderr).toBe('');
  });

  it('an unknown option is exit 1 with a hint', async () => {
    const r = await run('catalog', 'ddl', '--bukket', 'b');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown option '--bukket'");
    expect(r.stderr).toContain('--help');
  });

  it.skipIf(!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')))('the built bin prints help', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'clicklake.js'), '--help'], { cwd: work, timeout: 30_000 });
    expect(stdout).toMatch(/Usage: clicklake/);
    expect(stdout).toContain('catalog');
    expect(stdout).toContain('schema');
  });

  it.skipIf(!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')))('a reader that stops early (| head) ends the command quietly with exit 0', async () => {
    // ~2 MB of CSV, far more than a pipe holds: the writes after the reader has gone fail with EPIPE.
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'clicklake.js'), 'query', '--lake', work, '--format', 'csv', 'SELECT * FROM range(300000)'], { cwd: work });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(first).toMatch(/^range\r\n0\r\n/);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});
