/**
 * The backfill fan-out: the plan (distinct hours per branch), the deployed state machine's own
 * definition run by an ASL interpreter (aws-local-stepfunctions) through the same runFanOut the
 * CLI uses, with a fake invoke that records every event (each hour compacted once, concurrency
 * bounded, throttling retried, failures reported with their hours), and `clicklake compact
 * --fan-out` end to end over the SDK's SFNClient, each branch running the real compaction handler
 * on a local lake: byte-identical to a local run of the same range.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { backfillDefinition } from '../src/compaction/fanout/definition.js';
import { MAX_HOURS_PER_EXECUTION, planBackfill, summarizeBackfill } from '../src/compaction/fanout/plan.js';
import { runFanOut } from '../src/compaction/fanout/run.js';
import { runCompactionJob } from '../src/compaction/lambda/handler.js';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { ClicklakeError } from '../src/errors.js';
import { formatHour, HOUR_MS, parseHour } from '../src/partitions/hours.js';
import { openStore } from '../src/storage/open.js';
import { runCli } from './support/cli.js';
import { LocalStepFunctions, type InvokeResult } from './support/local-step-functions.js';

const hoursFrom = (first: string, n: number) => Array.from({ length: n }, (_, i) => parseHour(first) + i * HOUR_MS);

describe('planBackfill', () => {
  it('splits the distinct hours, oldest first, into branches of the asked size', () => {
    const hours = hoursFrom('2024-05-01T00', 10);
    const plan = planBackfill([...hours].reverse().concat(hours[3]!), { hoursPerBranch: 4 });
    expect(plan.items.map((i) => i.hours)).toEqual([hours.slice(0, 4), hours.slice(4, 8), hours.slice(8)].map((b) => b.map(formatHour)));
    expect(plan.items.every((i) => i.force === undefined)).toBe(true);
    expect(planBackfill(hours, { force: true }).items).toEqual([{ hours: hours.map(formatHour), force: true }]);
  });

  it('refuses more than a year of hours in one execution, saying how to split', () => {
    expect(() => planBackfill(hoursFrom('2024-01-01T00', MAX_HOURS_PER_EXECUTION + 1))).toThrow(/8761 hours is more than one fan-out takes \(8760.*split --from\/--to/);
    const year = planBackfill(hoursFrom('2024-01-01T00', MAX_HOURS_PER_EXECUTION));
    // The input, and the output if every branch failed and echoed its hours, fit Step Functions' 256 KiB.
    expect(Buffer.byteLength(JSON.stringify(year))).toBeLessThan(256 * 1024);
    const allFailed = year.items.map((i) => ({ failed: i.hours, error: 'ClicklakeError' }));
    expect(Buffer.byteLength(JSON.stringify(allFailed))).toBeLessThan(256 * 1024);
  });

  it('sums what the branches answered; a branch without an answer is a failure', () => {
    const input = planBackfill(hoursFrom('2024-05-01T00', 6), { hoursPerBranch: 2 });
    const summary = summarizeBackfill(input, [{ written: 5, units: 2, deferred: [] }, { failed: input.items[1]!.hours, error: 'ClicklakeError' }]);
    expect(summary).toEqual({ branches: 3, hours: 6, unitsCompacted: 2, written: 5, deferred: [], failed: [{ hours: input.items[1]!.hours, error: 'ClicklakeError' }, { hours: input.items[2]!.hours, error: 'no result' }] });
  });
});

describe('the backfill definition, run locally through runFanOut', () => {
  it('invokes every hour once, at most MaxConcurrency at a time, retries throttling and reports the failed hours', async () => {
    const hours = hoursFrom('2024-05-01T00', 50);
    const input = planBackfill(hours, { hoursPerBranch: 4 });
    const failing = input.items[5]!.hours[0]!;
    const throttled = input.items[2]!.hours[0]!;
    let throttles = 0;
    const engine = new LocalStepFunctions(backfillDefinition({ maxConcurrency: 3, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:clicklake-backfill' }), async (event): Promise<InvokeResult> => {
      await new Promise((r) => setTimeout(r, 5));
      if (event.hours[0] === throttled && throttles++ === 0) throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
      if (event.hours[0] === failing) throw new ClicklakeError('schema_invalid', 'the schema does not load');
      return { units: event.hours.map((hour) => ({ hour })), deferred: [], totals: { written: 10 * event.hours.length } };
    });
    const seen: number[] = [];
    const { summary } = await runFanOut(engine, input, { pollMs: 2, onProgress: (s) => s.branches && seen.push(s.branches.succeeded + s.branches.failed) });

    const invoked = engine.invocations.filter((e, i) => !(e.hours[0] === throttled && i === engine.invocations.findIndex((x) => x.hours[0] === throttled))).flatMap((e) => e.hours);
    expect(invoked.sort()).toEqual(hours.map(formatHour));
    expect(engine.invocations).toHaveLength(input.items.length + 1);
    expect(engine.maxInFlight).toBeLessThanOrEqual(3);
    expect(engine.maxInFlight).toBeGreaterThan(1);
    expect(summary.failed).toEqual([{ hours: input.items[5]!.hours, error: 'ClicklakeError' }]);
    expect(summary.unitsCompacted).toBe(50 - 4);
    expect(summary.written).toBe(10 * (50 - 4));
    expect(seen.at(-1)).toBe(input.items.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });
});

describe('clicklake compact --from --to --fan-out', () => {
  let root: string;
  const lakes = { local: '', fanned: '' };
  let now = '';
  let range: { from: string; to: string };
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'clicklake-fanout-'));
    for (const name of ['local', 'fanned'] as const) {
      lakes[name] = path.join(root, name);
      const lake = await writeSyntheticLake({ store: openStore(lakes[name]), table: 'click_events', seed: 5, events: 3000, startDate: '2024-05-06', days: 1 });
      now = new Date(lake.lastArrivalMs + 3 * HOUR_MS).toISOString();
    }
    range = { from: '2024-05-06T03', to: '2024-05-06T20' };
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(root, { recursive: true, force: true });
  });

  async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
  }
  const withoutTiming = (text: string): unknown => {
    const { startedAt: _s, finishedAt: _f, durationMs: _d, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return rest;
  };

  it('compacts the range in branches of the real handler, and the lake equals a local run of the same range', async () => {
    const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined); // the handler's JSON log lines
    onTestFinished(() => quiet.mockRestore());
    const engine = new LocalStepFunctions(backfillDefinition({ maxConcurrency: 2, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:clicklake-backfill' }), (event) =>
      runCompactionJob(event, { getRemainingTimeInMillis: () => 900_000 }, { env: { CLICKLAKE_LAKE: pathToFileURL(lakes.fanned).href, CLICKLAKE_MEMORY_LIMIT: '300MB' }, now: () => Date.parse(now), workDir: root }),
    );
    const api = await engine.serve();
    let fannedWritten = 0;
    const env = { AWS_ENDPOINT_URL_SFN: api.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDFAKESFN', AWS_SECRET_ACCESS_KEY: 'fake-sfn-secret' };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      const dry = await runCli(['compact', '--lake', lakes.fanned, '--from', range.from, '--to', range.to, '--now', now, '--fan-out', '--hours-per-branch', '5', '--dry-run'], root);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/^would start clicklake-backfill-click_events with 4 branch\(es\) over 18 hour\(s\)/);
      expect(engine.invocations).toEqual([]);

      const run = await runCli(['compact', '--lake', lakes.fanned, '--from', range.from, '--to', range.to, '--now', now, '--fan-out', '--hours-per-branch', '5', '--poll-seconds', '0.05'], root);
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(run.stderr).toMatch(/^started arn:aws:states:us-east-1:123456789012:execution:clicklake-backfill-click_events:backfill-2024-05-06T03-2024-05-06T20-\d+: 4 branch\(es\), 18 hour\(s\)\n/);
      expect(run.stderr).toMatch(/fan-out: 4\/4 branches done \(0 failed\), 0 running, 0 pending\n$/);
      expect(run.stdout).toMatch(/^hours compacted +\| 18$/m);
      fannedWritten = Number(/^rows written +\| (\d+)$/m.exec(run.stdout)?.[1]);
      expect(engine.invocations.map((e) => e.hours.length)).toEqual([5, 5, 5, 3]);
      expect(engine.maxInFlight).toBeLessThanOrEqual(2);
      expect(api.calls.map((c) => c.operation)).toEqual(expect.arrayContaining(['ListStateMachines', 'StartExecution', 'DescribeExecution', 'ListMapRuns', 'DescribeMapRun']));

      const again = await runCli(['compact', '--lake', lakes.fanned, '--from', range.from, '--to', range.to, '--now', now, '--fan-out'], root);
      expect(again.stdout).toBe('nothing to compact in the range (18 hour(s) up to date; --force redoes them)\n');
    } finally {
      await api.close();
    }

    const local = await runCli(['compact', '--lake', lakes.local, '--from', range.from, '--to', range.to, '--now', now, '--json'], root);
    expect(local.code, local.stderr).toBe(0);
    const localSummary = JSON.parse(local.stdout) as { units: unknown[]; totals: { written: number } };
    expect(localSummary.units).toHaveLength(18);
    expect(fannedWritten).toBe(localSummary.totals.written);
    const files = await filesUnder(lakes.local);
    expect(await filesUnder(lakes.fanned)).toEqual(files);
    expect(files.filter((f) => f.startsWith('_manifests/'))).toHaveLength(18);
    for (const f of files) {
      const [a, b] = await Promise.all([readFile(path.join(lakes.local, f)), readFile(path.join(lakes.fanned, f))]);
      if (f.startsWith('_manifests/')) expect(withoutTiming(b.toString('utf8')), f).toEqual(withoutTiming(a.toString('utf8')));
      else expect(b.equals(a), f).toBe(true);
    }
  });

  it('exits 1 listing the failed hours and how to redo them', async () => {
    const engine = new LocalStepFunctions(backfillDefinition({ maxConcurrency: 2, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:clicklake-backfill' }), async (event) => {
      if (event.hours.includes('2024-05-06T09')) throw new ClicklakeError('access_denied', 'no access to the lake');
      expect(event.force).toBe(true);
      return { units: event.hours, deferred: [], totals: { written: 1 } };
    });
    const api = await engine.serve();
    process.env['AWS_ENDPOINT_URL_SFN'] = api.endpoint;
    try {
      const run = await runCli(['compact', '--lake', lakes.local, '--from', '2024-05-06T03', '--to', '2024-05-06T12', '--now', now, '--force', '--fan-out', '--hours-per-branch', '4', '--poll-seconds', '0.05'], root);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^hours failed +\| 4$/m);
      expect(run.stdout).toContain('failed: 2024-05-06T07 2024-05-06T08 2024-05-06T09 2024-05-06T10 (ClicklakeError; the message is in the backfill function\'s log group)\n');
      expect(run.stdout).toContain('run the same command again to redo only these hours');
      expect(run.stderr).toMatch(/fan-out: 3\/3 branches done \(1 failed\)/);
    } finally {
      await api.close();
    }
  });

  it('names the fix for a bad range', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--fan-out'], /--fan-out needs the range to backfill: add --from YYYY-MM-DDTHH --to YYYY-MM-DDTHH/],
      [['--from', '2024-05-06T03'], /--from and --to go together: add --to YYYY-MM-DDTHH/],
      [['--from', '2024-05-06T09', '--to', '2024-05-06T03'], /--from 2024-05-06T09 is after --to 2024-05-06T03: swap them/],
      [['--from', '2024-05-06T03', '--to', '2024-05-06T09', '--all'], /cannot be combined with --hour or --all/],
      [['--from', '2024-05-06T03', '--to', '2099-01-01T00'], /hour 2099-01-01T00 is still open/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(['compact', '--lake', lakes.local, '--now', now, ...args], root);
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr).toMatch(message);
    }
  });
});
