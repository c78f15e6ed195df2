/**
 * `clicklake serve` put together: the spool (one server per spool), Firehose-compatible delivery
 * into the lake's raw zone, the HTTP app, and optional background compaction of closed hours.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { buildDashboardHtml } from '../dashboard/build.js';
import { compactionContext, manifestSettings } from '../compaction/context.js';
import { runUnits } from '../compaction/schedule/run.js';
import { planUnits } from '../compaction/schedule/scheduler.js';
import { HOUR_MS } from '../partitions/hours.js';
import type { TableSpec } from '../schema/types.js';
import { openStore } from '../storage/open.js';
import { BufferedDelivery, type BufferingHints } from './buffered-delivery.js';
import { buildIngestApp } from './http-app.js';
import { TokenBucket } from './rate-limit.js';
import { requestModel } from './request-model.js';
import { compileRequestValidator } from './request-validator.js';
import { lockSpool } from './spool-lock.js';
import { Spool } from './spool.js';

export interface ServeOptions {
  lake: string;
  spec: TableSpec;
  settings: Settings;
  host: string;
  port: number;
  /** Spool directory; default `<lake dir>/_spool` for a file:// lake. */
  spoolDir?: string;
  hints: BufferingHints;
  gzip: boolean;
  stream: string;
  allowedOrigins: string[];
  rate?: { perSecond: number; burst: number };
  /** Compact closed hours this often (ms); undefined: never. */
  compactEveryMs?: number;
  /** Grace after an hour's end before background compaction takes it. */
  compactGraceMs: number;
  log: (line: string) => void;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export function defaultSpoolDir(lake: string): string | undefined {
  return lake.startsWith('file://') ? path.join(fileURLToPath(lake), '_spool') : undefined;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { spec, settings, log } = options;
  const spoolRoot = options.spoolDir ?? defaultSpoolDir(options.lake)!;
  const spoolDir = path.join(spoolRoot, spec.name);
  const lock = await lockSpool(spoolDir);
  const store = openStore(options.lake);
  const delivery = new BufferedDelivery(
    new Spool(spoolDir),
    { store, layout: settings.layout, table: spec.name, stream: options.stream, gzip: options.gzip, ...(settings.sse ? { sse: settings.sse } : {}) },
    options.hints,
    {
      delivered: (_s, objects) => { for (const o of objects) log(`delivered ${o.records} record(s), ${o.bytes} bytes: ${o.key}`); },
      failed: (_s, err) => log(`delivery failed, will retry: ${(err as Error).message ?? String(err)}`),
      torn: (_s, bytes, keptAt) => log(`a spool segment ended in ${bytes} byte(s) of a write that was never acknowledged; kept at ${keptAt}`),
    },
  );
  try {
    await delivery.start();
  } catch (err) {
    await lock.release();
    throw err;
  }

  const check = compileRequestValidator(requestModel(spec).model);
  const localLake = options.lake.startsWith('file://');
  const app = await buildIngestApp({
    check,
    accept: (record, at) => delivery.accept(record, at),
    allowedOrigins: options.allowedOrigins,
    ...(options.rate ? { throttle: new TokenBucket(options.rate.perSecond, options.rate.burst) } : {}),
    ...(localLake
      ? {
          dashboard: () =>
            buildDashboardHtml({
              source: { kind: 'local', lakeDir: options.lake, ...(settings.schemasDir ? { schemasDir: settings.schemasDir } : {}), ...(settings.viewsDir ? { viewsDir: settings.viewsDir } : {}) },
              allowEmpty: true,
            }),
        }
      : { noDashboard: `the dashboard reads a file:// lake; for ${options.lake} run clicklake dashboard --athena` }),
    onOrder: (order) => log(`order (stub): ${JSON.stringify(order)}`),
    health: () => ({ ...delivery.stats }),
  });

  let compacting: Promise<void> | undefined;
  const compactClosedHours = async (): Promise<void> => {
    const ctx = compactionContext({ store, spec, settings });
    const plan = await planUnits(store, settings.layout, spec.name, {
      now: Date.now(),
      graceMs: options.compactGraceMs,
      lookbackMs: settings.compaction.lookbackHours * HOUR_MS,
      settings: manifestSettings(ctx),
    });
    if (plan.todo.length === 0) return;
    const summary = await runUnits(ctx, plan.todo);
    for (const u of summary.units) log(`compacted ${u.hour}: ${u.counts.written} written, ${u.counts.duplicates} duplicate(s), ${u.counts.rejected} rejected`);
  };
  const timer = options.compactEveryMs
    ? setInterval(() => {
        compacting ??= compactClosedHours()
          .catch((err: unknown) => log(`background compaction failed (the next round retries): ${(err as Error).message ?? String(err)}`))
          .finally(() => (compacting = undefined));
      }, options.compactEveryMs)
    : undefined;

  const address = await app.listen({ host: options.host, port: options.port });
  const url = address.replace('[::1]', 'localhost');
  log(`clicklake serve: POST ${url}/events -> ${options.lake} (${spec.name}); menu ${url}/ ; dashboard ${url}/dashboard`);
  if (options.compactEveryMs) log(`compacting closed hours every ${options.compactEveryMs / 60_000} min (an hour closes ${options.compactGraceMs / 60_000} min after its end)`);

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        // Requests in flight finish; a connection a browser keeps open past the deadline is cut.
        const deadline = setTimeout(() => app.server.closeAllConnections(), 3_000);
        await app.close();
        clearTimeout(deadline);
        try {
          await delivery.close();
          await compacting;
        } finally {
          await lock.release();
        }
      })()),
  };
}
