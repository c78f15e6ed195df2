import type { Command } from 'commander';
import { compactionContext, defaultMemoryLimit, manifestSettings } from '../compaction/context.js';
import { runUnits, type RunSummary } from '../compaction/schedule/run.js';
import { planUnits } from '../compaction/schedule/scheduler.js';
import { ClicklakeError } from '../errors.js';
import { formatHour, HOUR_MS, parseHour } from '../partitions/hours.js';
import { rawTablePrefix } from '../partitions/layout.js';
import { loadTable } from '../schema/load.js';
import { openStore } from '../storage/open.js';
import { wholeNumberFlag } from './number-flags.js';
import { addConfigOption, DEFAULT_LAKE, lakeOrDefault, settingsFor, type ConfigFlags } from './config-flags.js';
import { ExitCode, type CliIO } from './io.js';
import { renderTable } from './render-table.js';
import { formatBytes } from '../query/scan-cost.js';
import { checkedMemoryLimit } from '../compaction/write/memory.js';
import { backfillStateMachineName, DEFAULT_HOURS_PER_BRANCH } from '../compaction/fanout/plan.js';
import { runFanOutCommand } from './compact-fanout.js';
import { LAMBDA_LIMITS } from '../base/lambda-limits.js';

interface CompactFlags extends ConfigFlags {
  table: string;
  hour?: string[];
  all?: boolean;
  now?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  memoryLimit?: string;
  graceMinutes?: string;
  lookbackHours?: string;
  maxSkewHours?: string;
  parallel: string;
  from?: string;
  to?: string;
  fanOut?: boolean;
  hoursPerBranch: string;
  stateMachine?: string;
  pollSeconds: string;
  leaseSeconds?: string;
}

/** `--from`/`--to` as a range of hours, or undefined; both or neither, not with --hour or --all. */
function rangeOf(flags: CompactFlags): { from: number; to: number } | undefined {
  if (flags.from === undefined && flags.to === undefined) {
    if (flags.fanOut) throw new ClicklakeError('bad_flag', '--fan-out needs the range to backfill: add --from YYYY-MM-DDTHH --to YYYY-MM-DDTHH', {});
    return undefined;
  }
  if (flags.from === undefined || flags.to === undefined) throw new ClicklakeError('bad_flag', `--from and --to go together: add ${flags.from === undefined ? '--from' : '--to'} YYYY-MM-DDTHH`, {});
  if (flags.hour || flags.all) throw new ClicklakeError('bad_flag', '--from/--to cannot be combined with --hour or --all: pick one way to choose the hours', {});
  const range = { from: parseHour(flags.from), to: parseHour(flags.to) };
  if (range.from > range.to) throw new ClicklakeError('bad_flag', `--from ${flags.from} is after --to ${flags.to}: swap them`, { from: flags.from, to: flags.to });
  return range;
}

function parseNow(text: string | undefined): number {
  if (text === undefined) return Date.now();
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ClicklakeError('bad_flag', `--now "${text}" is not a time: write an ISO 8601 instant such as 2024-05-01T12:30:00Z`, { now: text });
  return ms;
}

function positiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new ClicklakeError('bad_flag', `${flag} ${text} must be a number >= 0`, { flag, value: text });
  return n;
}

/**
 * Why there was nothing to do. With no unit at all in scope, the likely causes are a wrong --lake
 * or table, or data older than the lookback window: say where raw objects were looked for.
 */
function nothingToCompact(lake: string, rawPrefix: string, upToDate: number, scope: 'all' | 'hours' | number): string {
  if (upToDate > 0) return `nothing to compact in ${lake} (${upToDate} unit(s) up to date)`;
  const where = `${lake.replace(/\/+$/, '')}/${rawPrefix}`;
  if (scope === 'all') return `nothing to compact: no closed hour has raw objects under ${where}`;
  if (scope === 'hours') return `nothing to compact: the hours asked for have no raw objects under ${where}`;
  return `nothing to compact: no closed hour of the last ${scope} hours has raw objects under ${where} (--all looks at every hour)`;
}

export function summaryTable(summary: RunSummary): string {
  const rows = summary.units.map((u) => [u.hour, u.reason, u.counts.recordsIn, u.counts.written, u.counts.duplicates, u.counts.rejected, formatBytes(u.counts.bytesIn), formatBytes(u.counts.bytesOut), u.files, `${(u.durationMs / 1000).toFixed(1)} s`]);
  const t = summary.totals;
  if (summary.units.length > 1) rows.push(['total', '', t.recordsIn, t.written, t.duplicates, t.rejected, formatBytes(t.bytesIn), formatBytes(t.bytesOut), t.files, `${(t.durationMs / 1000).toFixed(1)} s`]);
  const columns = ['unit (arrival hour)', 'why', 'records in', 'written', 'duplicates', 'rejected', 'bytes in', 'bytes out', 'files', 'time'].map((name) => ({ name }));
  return renderTable({ columns, rows }).replace(/\(\d+ rows?\)\n$/, '');
}

export function registerCompactCommand(program: Command, io: CliIO): void {
  addConfigOption(program.command('compact'))
    .description('compact closed Firehose arrival hours into date-partitioned Parquet (validated, deduplicated)')
    .option('--lake <uri>', `lake root: s3://bucket/prefix, file://dir or a directory (default: config "lake", else ${DEFAULT_LAKE})`)
    .option('--table <name>', 'table (schema x-lake.table) to compact', 'click_events')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--hour <YYYY-MM-DDTHH...>', 'compact exactly these arrival hours (UTC)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--all', 'every closed hour with raw data, not only the lookback window')
    .option('--now <iso-time>', 'the current time, for deciding which hours are closed (default: the clock)')
    .option('--force', 'redo units even when their manifest is up to date')
    .option('--dry-run', 'list the units that would be compacted, and why; change nothing')
    .option('--grace-minutes <n>', 'an hour is closed this long after its end (default: config, 20)')
    .option('--lookback-hours <n>', 'how far back to look for new or late data (default: config, 48)')
    .option('--max-skew-hours <n>', 'reject events whose time is further than this from their arrival hour (default: config, 168)')
    .option('--compression <codec>', 'Parquet codec: ZSTD or SNAPPY (default: config, ZSTD)')
    .option('--memory-limit <size>', `DuckDB memory per unit before it spills to disk, e.g. 400MB (default: 30% of this machine's memory, counting at most ${LAMBDA_LIMITS.memoryMb.max.toLocaleString('en-US')} MB like the largest Lambda: ${defaultMemoryLimit()})`)
    .option('--lease-seconds <n>', "a unit's lease, renewed while it runs: another run skips a leased unit, and takes over one whose holder died once it expires (default: config, 600)")
    .option('--parallel <n>', 'compact this many units at once, each with 1/n of the memory limit and threads (same lake as one at a time)', '1')
    .option('--from <YYYY-MM-DDTHH>', 'first arrival hour of a range to (re)compact (UTC, with --to)')
    .option('--to <YYYY-MM-DDTHH>', 'last arrival hour of the range, included (must be closed)')
    .option('--fan-out', 'run the range on the deployed backfill state machine (Step Functions, many Lambdas at once) instead of this machine')
    .option('--hours-per-branch <n>', 'with --fan-out: hours each Lambda invocation compacts', String(DEFAULT_HOURS_PER_BRANCH))
    .option('--state-machine <name|arn>', 'with --fan-out: the backfill state machine (default: clicklake-backfill-<table>, found by name)')
    .option('--poll-seconds <n>', 'with --fan-out: how often to read the progress', '5')
    .option('--json', 'print the summary as JSON (no progress display)')
    .addHelpText('after', '\nExamples:\n  clicklake compact --lake file://./lake --all\n  clicklake compact --lake s3://my-lake --hour 2024-05-01T13 --dry-run\n  clicklake compact --lake s3://my-lake --from 2024-01-01T00 --to 2024-12-31T23 --force --fan-out\n')
    .action(async (flags: CompactFlags) => {
      const settings = await settingsFor(io, flags);
      const lake = lakeOrDefault(settings, io.cwd);
      const grace = positiveNumber('--grace-minutes', flags.graceMinutes) ?? settings.compaction.graceMinutes;
      const lookback = positiveNumber('--lookback-hours', flags.lookbackHours) ?? settings.compaction.lookbackHours;
      const skew = positiveNumber('--max-skew-hours', flags.maxSkewHours);
      if (skew !== undefined) settings.compaction.maxSkewHours = skew;
      if (flags.hour && flags.all) throw new ClicklakeError('bad_flag', '--hour and --all cannot be combined: pick the hours, or all of them', {});
      const range = rangeOf(flags);
      const parallel = wholeNumberFlag('--parallel', flags.parallel);
      const hoursPerBranch = wholeNumberFlag('--hours-per-branch', flags.hoursPerBranch);
      const pollSeconds = positiveNumber('--poll-seconds', flags.pollSeconds)!;
      const now = parseNow(flags.now);
      const spec = await loadTable(flags.table, settings.schemasDir);
      const store = openStore(lake);
      const ctx = compactionContext({ store, spec, settings, ...(flags.memoryLimit !== undefined ? { memoryLimit: checkedMemoryLimit(flags.memoryLimit, '--memory-limit') } : {}) });
      const plan = await planUnits(store, settings.layout, spec.name, {
        now,
        graceMs: grace * 60_000,
        lookbackMs: lookback * HOUR_MS,
        ...(flags.hour ? { hours: flags.hour.map(parseHour) } : {}),
        ...(flags.all ? { all: true } : {}),
        ...(range ? { range } : {}),
        ...(flags.force ? { force: true } : {}),
        settings: manifestSettings(ctx),
      });
      if (flags.fanOut) {
        await runFanOutCommand(io, {
          hours: plan.todo.map((u) => u.hour),
          upToDate: plan.upToDate.length,
          hoursPerBranch,
          force: flags.force === true,
          stateMachine: flags.stateMachine ?? backfillStateMachineName(spec.name),
          pollMs: pollSeconds * 1000,
          dryRun: flags.dryRun === true,
          json: flags.json === true,
        });
        return;
      }
      const idle = nothingToCompact(lake, rawTablePrefix(settings.layout, spec.name), plan.upToDate.length, flags.all ? 'all' : flags.hour || range ? 'hours' : lookback);
      if (flags.dryRun) {
        if (flags.json) {
          io.stdout.write(`${JSON.stringify({ lake, todo: plan.todo.map((u) => ({ hour: formatHour(u.hour), reason: u.reason, inputs: u.inputs.length, bytes: u.inputs.reduce((s, i) => s + i.size, 0) })), upToDate: plan.upToDate }, null, 2)}\n`);
          return;
        }
        io.stdout.write(plan.todo.length ? `would compact ${plan.todo.length} unit(s) in ${lake}:\n` : `${idle}\n`);
        for (const u of plan.todo) io.stdout.write(`  ${formatHour(u.hour)}  ${u.reason.padEnd(16)} ${u.inputs.length} object(s), ${formatBytes(u.inputs.reduce((s, i) => s + i.size, 0))}\n`);
        return;
      }
      const tty = io.stderr.isTTY === true && !flags.json;
      let current = '';
      ctx.onProgress = (e) => {
        if (!tty) return;
        const detail = e.total ? ` ${e.done}/${e.total} objects` : '';
        io.stderr.write(`\r\x1b[K${current} ${e.phase}${detail}`);
      };
      const leaseSeconds = flags.leaseSeconds === undefined ? settings.compaction.leaseSeconds : wholeNumberFlag('--lease-seconds', flags.leaseSeconds, 30);
      const warned = new Set<string>();
      const summary = await runUnits(ctx, plan.todo, {
        parallel,
        lease: {
          seconds: leaseSeconds,
          log: (message) => {
            if (warned.has(message)) return;
            warned.add(message);
            if (!flags.json) io.stderr.write(`${tty ? '\r\x1b[K' : ''}${message}\n`);
          },
        },
        onUnitStart: (u, i, total) => {
          current = `[${i + 1}/${total}] ${formatHour(u.hour)}`;
          if (!tty && !flags.json) io.stderr.write(`${current} (${u.reason}) ...\n`);
        },
        onUnitDone: () => {
          if (tty) io.stderr.write('\r\x1b[K');
        },
      });
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ lake, ...summary, upToDate: plan.upToDate }, null, 2)}\n`);
        return;
      }
      for (const s of summary.skipped) io.stderr.write(`skipped ${s.hour}: ${s.heldBy} holds it (lease until ${s.until})\n`);
      if (summary.units.length === 0) {
        if (summary.skipped.length === 0) io.stdout.write(`${idle}\n`);
        return;
      }
      io.stdout.write(summaryTable(summary));
      const reasons: Record<string, number> = {};
      const unknown: Record<string, number> = {};
      for (const u of summary.units) {
        for (const [k, v] of Object.entries(u.rejectReasons)) reasons[k] = (reasons[k] ?? 0) + v;
        for (const [k, v] of Object.entries(u.unknownFields)) unknown[k] = (unknown[k] ?? 0) + v;
      }
      if (Object.keys(reasons).length) io.stdout.write(`rejected by reason: ${Object.entries(reasons).map(([k, v]) => `${k} ${v}`).join(', ')} (records and reasons under ${lake.replace(/\/+$/, "")}/${settings.layout.errorsPrefix}/${spec.name}/)\n`);
      if (Object.keys(unknown).length) io.stdout.write(`unknown fields dropped (schema drift): ${Object.entries(unknown).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      if (summary.deferred.length) throw new ExitCode(1);
    });
}
