/**
 * Firehose's buffering over the durable spool: an accepted record is synced to the open segment;
 * the segment is closed and delivered as raw objects when it reaches the size hint or when its
 * first record is older than the interval hint, whichever comes first (Firehose's
 * BufferingHints). A segment is removed only after its objects are written, so a failed delivery
 * (the store down) is retried on the next tick and a crash at any point loses nothing: the next
 * start delivers what is left, to the same object names.
 */
import { deliverRecords, type DeliveredObject, type DeliveryTarget } from './delivery.js';
import { readSegment, Spool, type ClosedSegment } from './spool.js';

export interface BufferingHints {
  /** Deliver when the open segment holds this many bytes. */
  sizeBytes: number;
  /** Deliver when the open segment's first record is this old. */
  intervalMs: number;
}

export interface DeliveryStats {
  acceptedRecords: number;
  deliveredRecords: number;
  deliveredObjects: number;
  /** Segments waiting for delivery (closed, or failed and to be retried). */
  waitingSegments: number;
  lastError?: string;
}

export interface DeliveryLog {
  delivered?(segment: ClosedSegment, objects: DeliveredObject[]): void;
  failed?(segment: ClosedSegment, err: unknown): void;
  /** A segment whose tail was cut short (never synced, so never acknowledged). */
  torn?(segment: ClosedSegment, bytes: number, keptAt: string): void;
}

export class BufferedDelivery {
  private readonly waiting: ClosedSegment[] = [];
  private delivering: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly stats: DeliveryStats = { acceptedRecords: 0, deliveredRecords: 0, deliveredObjects: 0, waitingSegments: 0 };

  constructor(
    private readonly spool: Spool,
    private readonly target: DeliveryTarget,
    private readonly hints: BufferingHints,
    private readonly log: DeliveryLog = {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Delivers what an earlier process left in the spool, then starts the interval clock. */
  async start(): Promise<void> {
    this.waiting.push(...(await this.spool.leftovers()));
    await this.deliverWaiting();
    if (this.waiting.length > 0) throw new Error(this.stats.lastError ?? 'the spool could not be delivered');
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.min(1000, this.hints.intervalMs / 4)));
    this.timer.unref();
  }

  /** Resolves once the record is durable; after that, losing the process loses nothing. */
  async accept(payload: Buffer, arrivalMs: number): Promise<void> {
    await this.spool.append(payload, arrivalMs);
    this.stats.acceptedRecords++;
    if (this.spool.bytes >= this.hints.sizeBytes) void this.flush();
  }

  private async tick(): Promise<void> {
    const first = this.spool.firstArrivalMs;
    if (first !== undefined && this.now() - first >= this.hints.intervalMs) await this.flush();
    else if (this.waiting.length > 0) await this.deliverWaiting();
  }

  /** Closes the open segment and delivers it with any earlier one still waiting. */
  async flush(): Promise<void> {
    const closed = await this.spool.rotate();
    if (closed) this.waiting.push(closed);
    await this.deliverWaiting();
  }

  /**
   * One delivery loop at a time. A segment queued while a loop was finishing is picked up by a new
   * loop, started before anyone awaiting the old one resumes.
   */
  private deliverWaiting(): Promise<void> {
    this.delivering ??= this.deliveryLoop().then((ok) => {
      this.stats.waitingSegments = this.waiting.length;
      this.delivering = undefined;
      if (ok && this.waiting.length > 0) void this.deliverWaiting();
    });
    return this.delivering;
  }

  /** false when a delivery failed (the segment stays first in line for the next tick). */
  private async deliveryLoop(): Promise<boolean> {
    await Promise.resolve();
    while (this.waiting.length > 0) {
      const segment = this.waiting[0]!;
      try {
        await this.deliverSegment(segment);
        this.waiting.shift();
        delete this.stats.lastError;
      } catch (err) {
        this.stats.lastError = `delivery to ${this.target.store.uri} failed: ${(err as Error).message ?? String(err)}`;
        this.log.failed?.(segment, err);
        return false;
      }
    }
    return true;
  }

  private async deliverSegment(segment: ClosedSegment): Promise<void> {
    const { records, tornBytes } = await readSegment(segment.file);
    const objects = records.length > 0 ? await deliverRecords(this.target, segment, records) : [];
    // A cut tail was never acknowledged, but its bytes are kept beside the spool, not deleted.
    if (tornBytes > 0) this.log.torn?.(segment, tornBytes, await this.spool.setAside(segment));
    else await this.spool.remove(segment);
    this.stats.deliveredRecords += records.length;
    this.stats.deliveredObjects += objects.length;
    if (objects.length > 0) this.log.delivered?.(segment, objects);
  }

  /** Stops the clock and delivers everything accepted so far (SIGTERM). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.spool.settle();
    await this.flush();
    while (this.delivering) await this.delivering;
    if (this.waiting.length > 0) throw new Error(`${this.waiting.length} spool segment(s) not delivered (${this.stats.lastError ?? 'unknown error'}); they stay in ${this.spool.dir} and go out on the next start`);
  }
}
