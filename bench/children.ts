/**
 * One contender per process, so each peak RSS is its own; clicklake runs from dist/ (the
 * compiled code the CLI and the Lambda bundle run; `npm run build` makes it). Prints one JSON line:
 * { ms, cpuSeconds (both around the timed work only), maxRssMB (decimal MB: getrusage KiB x 1024 /
 * 1e6, the whole process), outBytes, rows, extra }.
 *
 *   clicklake <lake> <hour> [memoryLimit]
 *   anchor <ndjson> <out>
 *   anchor-sorted <ndjson> <out> [memoryLimit]
 *   parquetjs-lite <ndjson> <out> <sliceBytes>
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { compactUnit } from '../dist/compaction/unit.js';
import { compactionContext, defaultMemoryLimit } from '../dist/compaction/context.js';
import { resolveSettings } from '../dist/config/settings.js';
import { loadTable } from '../dist/schema/load.js';
import { openStore } from '../dist/storage/open.js';
import { duckdbType } from '../dist/schema/render-types.js';
import { quotedIdentifier, quotedString } from '../dist/base/sql.js';

const [kind, ...args] = process.argv.slice(2);

interface Timed {
  ms: number;
  cpuSeconds: number;
}

/** Starts the clock on the contender's work; the returned function reads wall and CPU time since. */
function startTimer(): () => Timed {
  const started = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - started, cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

function report(timed: Timed, result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...timed, maxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6, ...result })}\n`);
}

async function clicklake(lake: string, hour: string, memoryLimit: string | undefined): Promise<void> {
  const spec = await loadTable('click_events');
  const settings = resolveSettings({}, { lake });
  const steps: Record<string, number> = {};
  const ctx = compactionContext({ store: openStore(lake), spec, settings, ...(memoryLimit ? { memoryLimit } : {}) });
  ctx.onStepTime = (step, ms) => (steps[step] = (steps[step] ?? 0) + ms);
  const stop = startTimer();
  const { manifest } = await compactUnit(ctx, Date.parse(`${hour}:00:00Z`));
  report(stop(), { outBytes: manifest.counts.bytesOut, rows: manifest.counts.written, extra: { counts: manifest.counts, steps } });
}

/**
 * DuckDB alone, no validation. `sorted` adds what the compaction contract asks of every unit and
 * DuckDB's plain COPY skips: rows in the schema's sort order, within clicklake's memory limit
 * (spilling to `out`'s directory). It is the floor for any engine that parses with DuckDB here.
 */
async function anchor(ndjson: string, out: string, sorted: boolean, memoryLimit = defaultMemoryLimit()): Promise<void> {
  const spec = await loadTable('click_events');
  const columns = `{${spec.columns.map((c) => `${quotedString(c.jsonName)}: ${quotedString(c.type.kind === 'timestamp' ? 'TIMESTAMPTZ' : duckdbType(c.type))}`).join(', ')}}`;
  const limits: Record<string, string> = sorted ? { memory_limit: memoryLimit, temp_directory: path.join(path.dirname(out), 'anchor-spill') } : {};
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', ...limits });
  const conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const order = sorted ? ` ORDER BY ${[...spec.sortColumns, spec.eventIdColumn].map(quotedIdentifier).join(', ')}` : '';
  const stop = startTimer();
  await conn.run(`COPY (SELECT * FROM read_json(${quotedString(ndjson)}, format = 'newline_delimited', columns = ${columns})${order}) TO ${quotedString(out)} (FORMAT parquet, COMPRESSION ZSTD)`);
  const timed = stop();
  const rows = Number((await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${quotedString(out)})`)).getRows()[0]?.[0]);
  report(timed, { outBytes: statSync(out).size, rows });
  conn.closeSync();
  instance.closeSync();
}

/** Bytes of `ndjson`'s first lines that reach `limitBytes` (whole lines; the file's size if smaller). */
function sliceEnd(ndjson: string, limitBytes: number): number {
  const size = statSync(ndjson).size;
  if (limitBytes >= size) return size;
  const fd = openSync(ndjson, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let at = limitBytes - 1; at < size; at += chunk.length) {
      const read = readSync(fd, chunk, 0, chunk.length, at);
      const newline = chunk.subarray(0, read).indexOf(0x0a);
      if (newline >= 0) return at + newline + 1;
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

/** The naive writer: JSON.parse each line and append rows with parquetjs-lite (no validation). */
async function parquetjsLite(ndjson: string, out: string, limitBytes: number): Promise<void> {
  // @ts-expect-error parquetjs-lite ships no types
  const parquet = (await import('parquetjs-lite')).default;
  const schema = new parquet.ParquetSchema({
    event_id: { type: 'UTF8' }, event_type: { type: 'UTF8' }, event_time: { type: 'TIMESTAMP_MILLIS' },
    session_id: { type: 'UTF8' }, anonymous_id: { type: 'UTF8' }, restaurant_id: { type: 'UTF8' }, menu_id: { type: 'UTF8' },
    section: { type: 'UTF8', optional: true }, section_index: { type: 'INT32', optional: true }, item_id: { type: 'UTF8', optional: true },
    item_name: { type: 'UTF8', optional: true }, price_cents: { type: 'INT64', optional: true }, position: { type: 'INT32', optional: true },
    scroll_depth_pct: { type: 'INT32', optional: true }, user_agent: { type: 'UTF8', optional: true }, page_url: { type: 'UTF8', optional: true },
    referrer: { type: 'UTF8', optional: true }, locale: { type: 'UTF8', optional: true }, app_version: { type: 'UTF8', optional: true },
  });
  const bytes = sliceEnd(ndjson, limitBytes);
  const stop = startTimer();
  const writer = await parquet.ParquetWriter.openFile(schema, out);
  let rows = 0;
  const lines = createInterface({ input: createReadStream(ndjson, { end: bytes - 1 }), crlfDelay: Infinity });
  for await (const line of lines) {
    const ev = JSON.parse(line) as Record<string, unknown>;
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(ev)) if (v !== null && typeof v !== 'object') row[k] = v;
    row['event_time'] = new Date(String(ev['event_time']));
    await writer.appendRow(row);
    rows++;
  }
  await writer.close();
  report(stop(), { outBytes: statSync(out).size, rows, extra: { inputBytes: bytes } });
}

const positional = args.filter((a) => !a.startsWith('--'));
if (kind === 'clicklake') await clicklake(positional[0]!, positional[1]!, positional[2]);
else if (kind === 'anchor') await anchor(positional[0]!, positional[1]!, false);
else if (kind === 'anchor-sorted') await anchor(positional[0]!, positional[1]!, true, positional[2]);
else if (kind === 'parquetjs-lite') await parquetjsLite(positional[0]!, positional[1]!, Number(positional[2]));
else throw new Error(`unknown contender ${kind ?? '(none)'}: expected clicklake, anchor, anchor-sorted or parquetjs-lite`);
