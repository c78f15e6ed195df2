/**
 * Loads web/tracker.js as a browser would run a classic script, in a fresh `vm` context with no
 * `document` (so it does not auto-start), and hands back what it put on `globalThis.clicklake`.
 * Plus the small fakes its injectable parts take: a Web Storage over a Map and a manual timer.
 */
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const TRACKER_FILE = fileURLToPath(new URL('../../web/tracker.js', import.meta.url));

export type ClickEvent = Record<string, unknown> & { event_id: string; event_type: string };

export interface FetchAnswer { status: number }
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<FetchAnswer>;

export interface Tracker {
  track(type: string, fields?: Record<string, unknown>): ClickEvent;
  flush(): Promise<void>;
  leave(): void;
  pending(): ClickEvent[];
  stats: { queued: number; sent: number; dropped: Record<string, number>; storageFallback: boolean };
  sessionId: string;
  anonymousId: string;
}

export interface Store {
  load(): ClickEvent[];
  add(events: ClickEvent[]): ClickEvent[];
  remove(ids: string[]): void;
}

export interface TrackerApi {
  createTracker(options: Record<string, unknown>): Tracker;
  retryDecision(status: number | undefined): 'sent' | 'retry' | 'drop';
  backoffDelay(attempt: number, random: () => number, baseMs: number, capMs: number): number;
  createMemoryStore(max: number): Store;
  createStorageStore(storage: MapStorage, key: string, max: number, onFallback?: () => void): Store;
  NEVER_RETRY: number[];
  DEFAULTS: Record<string, number | string>;
}

export function loadTracker(): TrackerApi {
  const context = vm.createContext({ crypto: webcrypto, console });
  vm.runInContext(readFileSync(TRACKER_FILE, 'utf8'), context, { filename: TRACKER_FILE });
  return (context as { clicklake: TrackerApi }).clicklake;
}

/** localStorage's interface over a Map; `failWrites` makes setItem throw like a full quota. */
export class MapStorage {
  readonly items = new Map<string, string>();
  failWrites = false;
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.failWrites) throw new Error('QuotaExceededError');
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** setTimeout / clearTimeout that run only when the test says so. */
export class ManualTimers {
  private next = 1;
  readonly due = new Map<number, { fn: () => void; ms: number }>();
  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.next++;
    this.due.set(id, { fn, ms });
    return id;
  };
  clearTimeout = (id: number): void => {
    this.due.delete(id);
  };
  /** Delays of the timers now waiting. */
  delays(): number[] {
    return [...this.due.values()].map((t) => t.ms);
  }
  /** Runs every waiting timer once (not the ones they schedule). */
  runAll(): void {
    const now = [...this.due.entries()];
    for (const [id, t] of now) {
      this.due.delete(id);
      t.fn();
    }
  }
}
