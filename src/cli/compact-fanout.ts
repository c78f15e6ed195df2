/**
 * `clicklake compact --from H --to H --fan-out`: the hours of the range that need compacting (one
 * listing of the raw zone, the same plan as a local run) are split into branches and handed to the
 * deployed backfill state machine; the command follows its Map run and prints the summary.
 */
import { planBackfill, type BackfillInput, type BackfillSummary } from '../compaction/fanout/plan.js';
import { runFanOut, type ExecutionStatus, type FanOutEngine } from '../compaction/fanout/run.js';
import type { HourStart } from '../partitions/hours.js';
import { ExitCode, type CliIO } from './io.js';
import { renderTable } from './render-table.js';

export interface FanOutCommandOptions {
  hours: HourStart[];
  upToDate: number;
  hoursPerBranch: number;
  force: boolean;
  stateMachine: string;
  pollMs: number;
  dryRun: boolean;
  json: boolean;
}

/** Loaded only here: the SDK client is not needed by any other command. */
async function stepFunctionsEngine(stateMachine: string): Promise<FanOutEngine> {
  const [{ SFNClient }, { resolveStateMachine, StepFunctionsEngine }] = await Promise.all([import('@aws-sdk/client-sfn'), import('../compaction/fanout/sfn.js')]);
  const client = new SFNClient({});
  return new StepFunctionsEngine(client, await resolveStateMachine(client, stateMachine));
}

function progressLine(s: ExecutionStatus): string {
  const b = s.branches;
  if (!b) return `fan-out ${s.status.toLowerCase()}: waiting for the Map run to start`;
  return `fan-out: ${b.succeeded + b.failed}/${b.total} branches done (${b.failed} failed), ${b.running} running, ${b.pending} pending`;
}

export function fanOutSummaryTable(summary: BackfillSummary): string {
  const rows: Array<[string, string | number]> = [
    ['branches', summary.branches],
    ['hours sent', summary.hours],
    ['hours compacted', summary.unitsCompacted],
    ['hours already up to date', summary.hours - summary.unitsCompacted - summary.deferred.length - summary.failed.reduce((n, f) => n + f.hours.length, 0)],
    ['rows written', summary.written],
    ['hours deferred (out of time)', summary.deferred.length],
    ['hours failed', summary.failed.reduce((n, f) => n + f.hours.length, 0)],
  ];
  return renderTable({ columns: [{ name: 'backfill' }, { name: 'count' }], rows }).replace(/\(\d+ rows?\)\n$/, '');
}

export async function runFanOutCommand(io: CliIO, options: FanOutCommandOptions): Promise<void> {
  const input: BackfillInput = planBackfill(options.hours, { hoursPerBranch: options.hoursPerBranch, force: options.force });
  if (options.dryRun) {
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ stateMachine: options.stateMachine, upToDate: options.upToDate, ...input }, null, 2)}\n`);
      return;
    }
    io.stdout.write(`would start ${options.stateMachine} with ${input.items.length} branch(es) over ${options.hours.length} hour(s) (${options.upToDate} up to date, not sent):\n`);
    for (const item of input.items) io.stdout.write(`  ${item.hours[0]} .. ${item.hours.at(-1)}  ${item.hours.length} hour(s)\n`);
    return;
  }
  if (input.items.length === 0) {
    io.stdout.write(`nothing to compact in the range (${options.upToDate} hour(s) up to date; --force redoes them)\n`);
    return;
  }
  const engine = await stepFunctionsEngine(options.stateMachine);
  const tty = io.stderr.isTTY === true && !options.json;
  let last = '';
  const { id, summary } = await runFanOut(engine, input, {
    pollMs: options.pollMs,
    onStart: (executionId) => {
      if (!options.json) io.stderr.write(`started ${executionId}: ${input.items.length} branch(es), ${options.hours.length} hour(s)\n`);
    },
    onProgress: (status) => {
      if (options.json) return;
      const line = progressLine(status);
      if (tty) io.stderr.write(`\r\x1b[K${line}`);
      else if (line !== last) io.stderr.write(`${line}\n`);
      last = line;
    },
  });
  if (tty) io.stderr.write('\r\x1b[K');
  if (options.json) io.stdout.write(`${JSON.stringify({ execution: id, ...summary }, null, 2)}\n`);
  else {
    io.stdout.write(fanOutSummaryTable(summary));
    for (const f of summary.failed) io.stdout.write(`failed: ${f.hours.join(' ')} (${f.error}; the message is in the backfill function's log group)\n`);
    if (summary.deferred.length) io.stdout.write(`deferred (out of time): ${summary.deferred.join(' ')}: use a smaller --hours-per-branch\n`);
    if (summary.failed.length || summary.deferred.length) io.stdout.write('run the same command again to redo only these hours (the others have up-to-date manifests)\n');
  }
  if (summary.failed.length || summary.deferred.length) throw new ExitCode(1);
}
