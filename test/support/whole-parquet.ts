/**
 * What a reader of a file:// lake sees in its curated zone, checked the way two independent
 * readers would read it: every file a reader can see (any name not starting with '.', which the
 * local store keeps for its temp files) must be a whole Parquet file: "PAR1" at both ends, a
 * footer hyparquet parses, every row hyparquet decodes (its count the footer's), and DuckDB's
 * `read_parquet` over the same files (what `clicklake query` runs) counting the same rows.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { withDuckDB } from '../../src/base/duckdb.js';
import { quotedString } from '../../src/base/sql.js';
import { readWithHyparquet } from './parquet-read.js';

export interface CuratedView {
  /** Files a reader could see, relative to the lake. */
  files: string[];
  /** Rows of all of them, per hyparquet. */
  rows: number;
  /** The event_id of every row, as hyparquet read them (a row in two files is here twice). */
  eventIds: string[];
  /** Everything that is not a whole Parquet file, one line each (none, if writes are atomic). */
  problems: string[];
}

async function visibleFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })) as string[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => !e.split(path.sep).some((s) => s.startsWith('.'))).sort();
}

/** What is wrong with a file's Parquet framing (magic at both ends), if anything. */
function framingProblem(bytes: Buffer): string | undefined {
  if (bytes.length < 12) return `${bytes.length} B, too short for Parquet`;
  if (bytes.subarray(0, 4).toString('latin1') !== 'PAR1') return 'no "PAR1" at the start';
  if (bytes.subarray(-4).toString('latin1') !== 'PAR1') return `no "PAR1" at the end (${bytes.length} B: cut off?)`;
  return undefined;
}

/**
 * Reads every visible file under `<lake>/curated/` once. A file removed between the listing and
 * the read (a stale output's removal) is not a problem; a file that is there is whole or reported.
 * With `duckdb`, DuckDB also reads all the visible .parquet files, as a query of the lake would.
 */
export async function readCurated(lake: string, options: { duckdb?: boolean } = {}): Promise<CuratedView> {
  const root = path.join(lake, 'curated');
  const view: CuratedView = { files: [], rows: 0, eventIds: [], problems: [] };
  for (const rel of await visibleFiles(root)) {
    const file = path.join(root, rel);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'EISDIR') continue;
      throw err;
    }
    const key = `curated/${rel}`;
    if (!rel.endsWith('.parquet')) {
      view.problems.push(`${key}: not a .parquet file, yet visible to a reader`);
      continue;
    }
    view.files.push(key);
    const framing = framingProblem(bytes);
    if (framing) {
      view.problems.push(`${key}: ${framing}`);
      continue;
    }
    try {
      const declared = Number(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).num_rows);
      const rows = await readWithHyparquet(bytes);
      if (rows.length !== declared) view.problems.push(`${key}: hyparquet decoded ${rows.length} rows, the footer says ${declared}`);
      view.rows += rows.length;
      for (const r of rows) view.eventIds.push(String(r['event_id']));
    } catch (err) {
      view.problems.push(`${key}: hyparquet cannot read it: ${(err as Error).message}`);
    }
  }
  if (options.duckdb && view.files.length > 0 && view.problems.length === 0) {
    const list = view.files.map((f) => quotedString(path.join(lake, f))).join(', ');
    try {
      const counted = await withDuckDB(async (conn) => Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet([${list}])`)).getRowObjectsJS()[0]!['n']));
      if (counted !== view.rows) view.problems.push(`DuckDB counts ${counted} rows in ${view.files.length} files, hyparquet ${view.rows}`);
    } catch (err) {
      // A file removed since the listing is a stale removal, not half a file.
      if (!/No such file|not found|does not exist/i.test((err as Error).message)) view.problems.push(`DuckDB cannot read the curated files: ${(err as Error).message}`);
    }
  }
  return view;
}

/**
 * A reader polling `<lake>/curated/` while something writes there (every 10 ms by default, until
 * stopped): how many passes and file reads it made, and every problem it saw.
 */
export function startCuratedReader(lake: string, pauseMs = 10): { stop(): Promise<{ passes: number; reads: number; problems: string[] }> } {
  let running = true;
  let passes = 0;
  let reads = 0;
  const problems = new Set<string>();
  const loop = (async () => {
    while (running) {
      const view = await readCurated(lake);
      passes++;
      reads += view.files.length;
      for (const p of view.problems) problems.add(p);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { passes, reads, problems: [...problems] };
    },
  };
}
