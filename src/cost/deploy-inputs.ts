/**
 * The parts of the config's `deploy` section the cost model uses, read loosely so a config
 * without one (or with only some fields) still prices the defaults the deploy app would use.
 * Field names are those of the deploy section: `region`, `retention.rawDays`,
 * `retention.errorsDays`, `replicaStorageClass`, `lambda.memoryMb`, `lambda.schedule`
 * (`rate(N minutes)`), `firehose.bufferIntervalSeconds`, `firehose.bufferSizeMiB`,
 * `backfill.maxConcurrency`.
 */
import type { Workload } from './model.js';

export type DeployCostInputs = Partial<Pick<Workload, 'rawDays' | 'errorsDays' | 'replicaStorageClass' | 'lambdaMemoryMb' | 'scheduleMinutes' | 'firehoseBufferSeconds' | 'firehoseBufferBytes' | 'backfillConcurrency'>> & { region?: string };

const at = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined), value);
const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/** `rate(15 minutes)` / `rate(1 hour)` in minutes; undefined for a cron expression or anything else. */
export function scheduleMinutes(expression: unknown): number | undefined {
  if (typeof expression !== 'string') return undefined;
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2]!.startsWith('minute') ? n : m[2]!.startsWith('hour') ? n * 60 : n * 1440;
}

export function deployCostInputs(config: unknown): DeployCostInputs {
  const deploy = at(config, 'deploy');
  const out: DeployCostInputs = {};
  const set = <K extends keyof DeployCostInputs>(key: K, value: DeployCostInputs[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set('region', typeof at(deploy, 'region') === 'string' ? (at(deploy, 'region') as string) : undefined);
  set('rawDays', positive(at(deploy, 'retention', 'rawDays')));
  set('errorsDays', positive(at(deploy, 'retention', 'errorsDays')));
  const replica = at(deploy, 'replicaStorageClass');
  set('replicaStorageClass', replica === 'STANDARD' || replica === 'STANDARD_IA' ? replica : undefined);
  set('lambdaMemoryMb', positive(at(deploy, 'lambda', 'memoryMb')));
  set('scheduleMinutes', scheduleMinutes(at(deploy, 'lambda', 'schedule')));
  set('firehoseBufferSeconds', positive(at(deploy, 'firehose', 'bufferIntervalSeconds')));
  const mib = positive(at(deploy, 'firehose', 'bufferSizeMiB'));
  set('firehoseBufferBytes', mib === undefined ? undefined : mib * 2 ** 20);
  set('backfillConcurrency', positive(at(deploy, 'backfill', 'maxConcurrency')));
  return out;
}
