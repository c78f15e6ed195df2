/**
 * The unit lease: one run at a time per unit, across machines (a CLI and a Lambda, two Lambdas),
 * with S3 conditional writes only. `_leases/<table>/YYYY/MM/DD/HH.json` is created with
 * If-None-Match: * to take the unit, replaced with If-Match on its ETag to renew it (every third
 * of its lifetime while the unit runs) or to take over one whose holder let it expire (a
 * process that died), and deleted when the unit is committed. A run that finds a live lease
 * skips the unit and says who holds it until when, unless the holder was a process on this host
 * that no longer runs (a crashed CLI run), whose lease is taken over at once. A holder that could not renew in time has
 * lost the lease: it stops before its next commit step, so no two runs commit one unit.
 *
 * Some S3-compatible servers ignore conditional writes (s3rver): a probe finds that once per
 * store and the run says so, since the lease cannot keep runs apart there.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { ClicklakeError, isClicklakeError } from '../../errors.js';
import { formatHour, hourPath, type HourStart } from '../../partitions/hours.js';
import type { ObjectStore } from '../../storage/types.js';
import { processExists } from '../../base/process.js';

export interface LeaseOptions {
  table: string;
  hour: HourStart;
  seconds: number;
  now: () => number;
  /** Who takes it (default: host, process and a random suffix). */
  owner?: string;
  /** Where warnings go (the store ignores conditional writes; a lease was taken over). */
  log?: (message: string) => void;
}

interface LeaseBody {
  owner: string;
  hour: string;
  takenAt: string;
  expiresAt: string;
}

export type LeaseOutcome = { lease: UnitLease } | { heldBy: string; until: string };

export function leaseKey(table: string, hour: HourStart): string {
  return `_leases/${table}/${hourPath(hour)}.json`;
}

/** A run's default lease owner: this host and process. */
export const RUN_OWNER = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * A holder on this host (owner `host:pid:...`) whose process has exited: a crashed CLI run need
 * not block its own rerun for the lease's lifetime. Holders elsewhere are only known by expiry.
 */
function holderIsGone(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== os.hostname() || !/^\d+$/.test(pid ?? '') || Number(pid) === process.pid) return false;
  return !processExists(Number(pid));
}

const isPreconditionFailed = (err: unknown): boolean => isClicklakeError(err) && err.code === 'precondition_failed';

const probes = new WeakMap<ObjectStore, Promise<boolean>>();

/** Whether the store honours If-None-Match: a probe key beside the table's leases created twice (once per store). */
export function storeHonoursConditions(store: ObjectStore, table: string): Promise<boolean> {
  let probe = probes.get(store);
  if (!probe) {
    probe = (async () => {
      const key = `_leases/${table}/_probe-${randomUUID()}.json`;
      await store.putIf(key, '{}', { ifNoneMatch: '*' });
      try {
        await store.putIf(key, '{}', { ifNoneMatch: '*' });
        return false;
      } catch (err) {
        if (isPreconditionFailed(err)) return true;
        throw err;
      } finally {
        await store.delete(key);
      }
    })();
    probes.set(store, probe);
  }
  return probe;
}

export class UnitLease {
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private lostReason: string | undefined;
  private expiresMs: number;

  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private etag: string,
    private readonly body: LeaseBody,
    private readonly options: LeaseOptions,
  ) {
    this.expiresMs = Date.parse(body.expiresAt);
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    }, Math.max(1000, (options.seconds * 1000) / 3));
    this.timer.unref();
  }

  /** Throws when the lease was lost: call before each commit step. */
  check(): void {
    if (this.lostReason === undefined && this.options.now() >= this.expiresMs) this.lostReason = `it expired at ${new Date(this.expiresMs).toISOString()} before it could be renewed`;
    if (this.lostReason !== undefined) {
      throw new ClicklakeError(
        'lease_lost',
        `the lease on ${this.options.table} ${formatHour(this.options.hour)} was lost (${this.lostReason}): this run stops before committing, so no two runs commit the unit; run compaction again (or raise compaction.leaseSeconds if units take longer than ${this.options.seconds} s)`,
        { key: this.key },
      );
    }
  }

  async renew(): Promise<void> {
    if (this.lostReason !== undefined) return;
    const expiresMs = this.options.now() + this.options.seconds * 1000;
    const body: LeaseBody = { ...this.body, expiresAt: new Date(expiresMs).toISOString() };
    try {
      this.etag = (await this.store.putIf(this.key, JSON.stringify(body), { ifMatch: this.etag })).etag;
      this.expiresMs = expiresMs;
    } catch (err) {
      if (isPreconditionFailed(err)) this.lostReason = 'another run replaced it';
      // Any other failure: try again at the next tick; check() notices when it expires meanwhile.
    }
  }

  /** Stops renewing and deletes the lease if it is still this run's. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    if (this.lostReason !== undefined) return;
    const current = await this.store.head(this.key);
    if (current?.etag === this.etag) await this.store.delete(this.key);
  }
}

async function readLease(store: ObjectStore, key: string): Promise<{ etag: string; body: LeaseBody | undefined } | undefined> {
  const info = await store.head(key);
  if (!info) return undefined;
  let body: LeaseBody | undefined;
  try {
    body = JSON.parse((await store.getBytes(key)).toString('utf8')) as LeaseBody;
  } catch (err) {
    if (isClicklakeError(err) && err.code === 'object_not_found') return undefined;
    if (!(err instanceof SyntaxError)) throw err;
  }
  return { etag: info.etag, body };
}

/** Takes the unit's lease, takes over an expired one, or says who holds it. */
export async function takeLease(store: ObjectStore, options: LeaseOptions): Promise<LeaseOutcome> {
  const key = leaseKey(options.table, options.hour);
  const now = options.now();
  const body: LeaseBody = {
    owner: options.owner ?? RUN_OWNER,
    hour: formatHour(options.hour),
    takenAt: new Date(now).toISOString(),
    expiresAt: new Date(now + options.seconds * 1000).toISOString(),
  };
  if (!(await storeHonoursConditions(store, options.table))) {
    options.log?.(`warning: ${store.uri} ignores conditional writes (If-None-Match), so the unit lease cannot keep two runs apart there: run one compaction at a time`);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const { etag } = await store.putIf(key, JSON.stringify(body), { ifNoneMatch: '*' });
      return { lease: new UnitLease(store, key, etag, body, options) };
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
    const current = await readLease(store, key);
    if (!current) continue; // released meanwhile: try to create it again
    const expires = current.body ? Date.parse(current.body.expiresAt) : 0;
    const gone = current.body ? holderIsGone(current.body.owner) : false;
    if (Number.isFinite(expires) && expires > now && !gone) return { heldBy: current.body!.owner, until: current.body!.expiresAt };
    try {
      const { etag } = await store.putIf(key, JSON.stringify(body), { ifMatch: current.etag });
      const why = gone ? `its holder, ${current.body!.owner}, is no longer running on this host` : `held by ${current.body?.owner ?? 'an unreadable lease'}, expired ${current.body?.expiresAt ?? 'unknown'}`;
      options.log?.(`took over the ${gone ? 'abandoned' : 'expired'} lease on ${options.table} ${formatHour(options.hour)} (${why}): redoing the unit`);
      return { lease: new UnitLease(store, key, etag, body, options) };
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
  }
  const current = await readLease(store, key);
  return { heldBy: current?.body?.owner ?? 'another run', until: current?.body?.expiresAt ?? new Date(now + options.seconds * 1000).toISOString() };
}
