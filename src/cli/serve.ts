import type { Command } from 'commander';
import { ClicklakeError } from '../errors.js';
import { defaultSpoolDir, startServer } from '../ingest/serve.js';
import { parseByteSize } from '../compaction/write/memory.js';
import { loadTable } from '../schema/load.js';
import { addConfigOption, DEFAULT_LAKE, lakeOrDefault, settingsFor, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';
import { positiveNumberFlag, wholeNumberFlag } from './number-flags.js';

interface ServeFlags extends ConfigFlags {
  table: string;
  host: string;
  port: string;
  flushSeconds: string;
  flushBytes: string;
  gzip?: boolean;
  spool?: string;
  stream?: string;
  allowOrigin?: string[];
  rateLimit?: string;
  burst?: string;
  compactEvery?: string;
  compactGraceMinutes?: string;
}

/** Firehose's buffering hints allow 1..128 MiB and 0..900 s. */
const MAX_FLUSH_BYTES = 128 * 1024 * 1024;

function flushBytesFlag(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < 1 || bytes > MAX_FLUSH_BYTES) {
    throw new ClicklakeError('bad_flag', `--flush-bytes ${text} must be a size from 1 byte to 128MiB (Firehose's range), e.g. --flush-bytes 5MiB`, { value: text });
  }
  return Math.floor(bytes);
}

/** Waits for SIGTERM or SIGINT. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export function registerServeCommand(program: Command, io: CliIO): Command {
  return addConfigOption(program.command('serve'))
    .description('the ingestion API on this machine (POST /events, durable before it answers), delivering Firehose-style raw objects into the lake; the demo menu at / and the dashboard at /dashboard')
    .option('--lake <uri>', `lake the raw objects go to: file://dir, a directory or s3://bucket/prefix (default: config "lake", else ${DEFAULT_LAKE})`)
    .option('--table <name>', 'table (schema x-lake.table) the events belong to', 'click_events')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--flush-seconds <s>', "deliver buffered records at least this often, like Firehose's buffer interval (Firehose's default is 300)", '60')
    .option('--flush-bytes <size>', "deliver when this much is buffered, like Firehose's buffer size", '5MiB')
    .option('--gzip', 'GZIP the delivered objects (.gz), like Firehose with GZIP compression')
    .option('--spool <dir>', 'directory of the durable spool (default: <lake>/_spool for a file:// lake; required for s3://)')
    .option('--stream <name>', 'delivery stream name at the start of every object name (default: clicklake-<table>)')
    .option('--allow-origin <origin>', 'a site allowed to post events from the browser, e.g. https://menu.example.com (repeatable; * for any)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--rate-limit <n>', 'answer 429 above this many requests per second (default: no limit)')
    .option('--burst <n>', 'requests allowed at once above the rate (default: the rate)')
    .option('--compact-every <minutes>', 'compact closed hours in the background this often')
    .option('--compact-grace-minutes <m>', 'with --compact-every: an hour is closed this long after its end (default: the flush interval plus a minute)')
    .addHelpText('after', `
The answers follow the ingestion contract (200 {"accepted": N}, 400 with the reasons, 413, 415,
429); an answer 200 means the events are fsync'd to the spool. SIGTERM or Ctrl-C delivers what is
buffered and exits 0; after a crash the next start delivers what the spool holds.

Examples:
  clicklake serve --lake file://./lake
  clicklake serve --port 0 --flush-seconds 5 --compact-every 5
  clicklake serve --allow-origin https://menu.example.com --rate-limit 100 --burst 200
`)
    .action(async (flags: ServeFlags) => {
      const settings = await settingsFor(io, flags);
      const lake = lakeOrDefault(settings, io.cwd);
      const port = wholeNumberFlag('--port', flags.port, 0);
      if (port > 65535) throw new ClicklakeError('bad_flag', `--port ${flags.port} must be at most 65535`, { value: flags.port });
      const flushSeconds = positiveNumberFlag('--flush-seconds', flags.flushSeconds, { allowZero: true, example: '60' });
      if (flushSeconds > 900) throw new ClicklakeError('bad_flag', `--flush-seconds ${flags.flushSeconds} must be at most 900 (Firehose's largest interval)`, { value: flags.flushSeconds });
      const spoolDir = flags.spool ?? defaultSpoolDir(lake);
      if (!spoolDir) throw new ClicklakeError('bad_flag', `the spool must be on this machine's disk: pass --spool DIR to serve into ${lake}`, { lake });
      const rate = flags.rateLimit !== undefined ? positiveNumberFlag('--rate-limit', flags.rateLimit, { example: '100' }) : undefined;
      if (flags.burst !== undefined && rate === undefined) throw new ClicklakeError('bad_flag', '--burst needs --rate-limit: the burst is the bucket above the rate', {});
      const burst = flags.burst !== undefined ? wholeNumberFlag('--burst', flags.burst) : rate !== undefined ? Math.max(1, Math.ceil(rate)) : undefined;
      const compactEvery = flags.compactEvery !== undefined ? positiveNumberFlag('--compact-every', flags.compactEvery, { example: '5' }) : undefined;
      const graceMinutes = flags.compactGraceMinutes !== undefined
        ? positiveNumberFlag('--compact-grace-minutes', flags.compactGraceMinutes, { allowZero: true, example: '2' })
        : flushSeconds / 60 + 1;
      if (graceMinutes * 60 < flushSeconds) {
        io.stderr.write(`warning: --compact-grace-minutes ${graceMinutes} is shorter than the flush interval (${flushSeconds} s): an hour may be compacted before its last records are delivered, and compacted again when they are\n`);
      }
      const spec = await loadTable(flags.table, settings.schemasDir);
      const server = await startServer({
        lake,
        spec,
        settings,
        host: flags.host,
        port,
        spoolDir,
        hints: { sizeBytes: flushBytesFlag(flags.flushBytes), intervalMs: flushSeconds * 1000 },
        gzip: flags.gzip === true,
        stream: flags.stream ?? `clicklake-${spec.name}`,
        allowedOrigins: flags.allowOrigin ?? [],
        ...(rate !== undefined && burst !== undefined ? { rate: { perSecond: rate, burst } } : {}),
        ...(compactEvery !== undefined ? { compactEveryMs: compactEvery * 60_000 } : {}),
        compactGraceMs: graceMinutes * 60_000,
        log: (line) => io.stderr.write(`${line}\n`),
      });
      io.stdout.write(`listening on ${server.url}\n`);
      const signal = await untilStopped();
      io.stderr.write(`${signal}: delivering what is buffered ...\n`);
      await server.close();
      io.stderr.write('stopped; everything accepted is in the lake\n');
    });
}
