/**
 * The tracker's parts without a browser: web/tracker.js runs in a `vm` context, with fetch,
 * storage, clock, random and timers injected.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAjv, type ValidateFunction } from '../src/schema/ajv.js';
import { loadTable } from '../src/schema/load.js';
import { loadTracker, ManualTimers, MapStorage, type ClickEvent, type FetchLike, type TrackerApi } from './support/tracker-vm.js';

let api: TrackerApi;
let validate: ValidateFunction;

beforeAll(async () => {
  api = loadTracker();
  validate = createAjv().compile((await loadTable('click_events')).jsonSchema);
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A fetch that answers each call with the next status of `script` (a network error for 'net'), recording bodies. */
function scriptedFetch(script: Array<number | 'net'>): { fetch: FetchLike; bodies: ClickEvent[][]; types: string[] } {
  const bodies: ClickEvent[][] = [];
  const types: string[] = [];
  const fetch: FetchLike = (_url, init) => {
    bodies.push(JSON.parse(init.body) as ClickEvent[]);
    types.push(init.headers['Content-Type']!);
    const answer = script[bodies.length - 1] ?? 200;
    return answer === 'net' ? Promise.reject(new TypeError('Failed to fetch')) : Promise.resolve({ status: answer });
  };
  return { fetch, bodies, types };
}

function trackerWith(extra: Record<string, unknown>) {
  const timers = new ManualTimers();
  const tracker = api.createTracker({
    endpoint: 'https://clicks.example/events',
    restaurantId: 'r-001',
    menuId: 'dinner',
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    now: () => Date.UTC(2026, 11, 3, 12, 30, 0, 250),
    random: () => 0.5,
    ...extra,
  });
  return { tracker, timers };
}

const ids = (events: ClickEvent[]) => events.map((e) => e.event_id);

describe('retry decision', () => {
  it('sends on 2xx, never retries the fixed set, retries 429, 5xx, 408 and network errors, and treats other answers as final', () => {
    const table: Array<[number | undefined, string]> = [
      [200, 'sent'], [202, 'sent'], [204, 'sent'],
      [400, 'drop'], [401, 'drop'], [403, 'drop'], [404, 'drop'], [410, 'drop'], [413, 'drop'], [415, 'drop'], [422, 'drop'],
      [408, 'retry'], [429, 'retry'], [500, 'retry'], [502, 'retry'], [503, 'retry'], [504, 'retry'], [undefined, 'retry'],
      [301, 'drop'], [409, 'drop'],
    ];
    for (const [status, decision] of table) expect([status, api.retryDecision(status)]).toEqual([status, decision]);
    expect(api.NEVER_RETRY).toEqual(expect.arrayContaining([400, 413, 415]));
  });
});

describe('full-jitter backoff', () => {
  it('is uniform in [0, min(cap, base * 2^(attempt-1))): 0 at random 0, just under the ceiling near 1', () => {
    expect(api.backoffDelay(1, () => 0, 1000, 60_000)).toBe(0);
    expect(api.backoffDelay(1, () => 0.999999, 1000, 60_000)).toBe(999);
    expect(api.backoffDelay(3, () => 0.5, 1000, 60_000)).toBe(2000);
    expect(api.backoffDelay(20, () => 0.999999, 1000, 60_000)).toBe(59_999);
  });

  it('stays inside its bounds for any attempt and random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 5000 }), (attempt, r, base) => {
        const cap = base * 30;
        const delay = api.backoffDelay(attempt, () => r, base, cap);
        const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
        return Number.isInteger(delay) && delay >= 0 && delay < ceiling;
      }),
    );
  });
});

describe('queue', () => {
  it('keeps at most max events, dropping the oldest first and returning them', () => {
    const store = api.createMemoryStore(3);
    const events = [1, 2, 3, 4, 5].map((n) => ({ event_id: `e${n}`, event_type: 'scroll' }));
    expect(store.add(events.slice(0, 2))).toEqual([]);
    expect(ids(store.add(events.slice(2)))).toEqual(['e1', 'e2']);
    expect(ids(store.load())).toEqual(['e3', 'e4', 'e5']);
    store.remove(['e4']);
    expect(ids(store.load())).toEqual(['e3', 'e5']);
  });

  it('counts the events a full queue drops, with the reason', () => {
    const dropped: Array<[string, string[]]> = [];
    const { tracker } = trackerWith({ maxQueued: 5, fetch: undefined, onDrop: (events: ClickEvent[], reason: string) => dropped.push([reason, ids(events)]) });
    const made = Array.from({ length: 8 }, (_, i) => tracker.track('scroll', { scroll_depth_pct: i }));
    expect(ids(tracker.pending())).toEqual(ids(made.slice(3)));
    expect(tracker.stats.dropped).toEqual({ queue_full: 3 });
    expect(dropped).toEqual(made.slice(0, 3).map((e) => ['queue_full', [e.event_id]]));
  });

  it('outlives a reload: a new tracker on the same storage sends the earlier events first, with their ids, and keeps the ids of the browser and the tab', async () => {
    const local = new MapStorage();
    const session = new MapStorage();
    const first = trackerWith({ storage: local, sessionStorage: session, fetch: () => new Promise(() => {}) });
    const before = [first.tracker.track('menu_view'), first.tracker.track('section_view', { section: 'Soups', section_index: 1 })];

    const down = scriptedFetch([200]);
    const second = trackerWith({ storage: local, sessionStorage: session, fetch: down.fetch });
    expect(ids(second.tracker.pending())).toEqual(ids(before));
    expect(second.tracker.anonymousId).toBe(first.tracker.anonymousId);
    expect(second.tracker.sessionId).toBe(first.tracker.sessionId);
    expect(second.timers.delays()).toEqual([0]);
    second.timers.runAll();
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(down.bodies).toEqual([before]);
    expect(second.tracker.pending()).toEqual([]);
    expect(JSON.parse(local.getItem('clicklake:queue')!)).toEqual([]);

    const otherTab = trackerWith({ storage: local, sessionStorage: new MapStorage(), fetch: undefined });
    expect(otherTab.tracker.anonymousId).toBe(first.tracker.anonymousId);
    expect(otherTab.tracker.sessionId).not.toBe(first.tracker.sessionId);
  });

  it('carries on in memory when the storage refuses writes', async () => {
    const local = new MapStorage();
    local.failWrites = true;
    const down = scriptedFetch([200]);
    const { tracker } = trackerWith({ storage: local, sessionStorage: local, fetch: down.fetch });
    const e = tracker.track('menu_view');
    expect(tracker.stats.storageFallback).toBe(true);
    expect(ids(tracker.pending())).toEqual([e.event_id]);
    await tracker.flush();
    expect(down.bodies).toEqual([[e]]);
    expect(tracker.pending()).toEqual([]);
  });
});

describe('delivery', () => {
  it('retries 503, 429 and network errors with the same event ids and full-jitter delays, and removes them after the 200', async () => {
    const down = scriptedFetch([503, 429, 'net', 200]);
    const { tracker, timers } = trackerWith({ fetch: down.fetch, backoffBaseMs: 1000, random: () => 0.75 });
    const made = [tracker.track('menu_view'), tracker.track('scroll', { scroll_depth_pct: 25 })];
    expect(timers.delays()).toEqual([2000]); // the batch waits for the flush interval
    const delays: number[][] = [];
    for (let i = 0; i < 4; i++) {
      timers.runAll();
      await new Promise((r) => setImmediate(r));
      delays.push(timers.delays());
    }
    expect(down.bodies).toHaveLength(4);
    for (const body of down.bodies) expect(ids(body)).toEqual(ids(made));
    expect(delays).toEqual([[750], [1500], [3000], []]); // 0.75 * 1000 * 2^(attempt-1)
    expect(tracker.pending()).toEqual([]);
    expect(tracker.stats).toMatchObject({ sent: 2, dropped: {} });
    expect(down.types.every((t) => t.startsWith('text/plain'))).toBe(true);
  });

  it('waits out its backoff even when a full batch queues up meanwhile', async () => {
    const down = scriptedFetch([503, 200]);
    const { tracker, timers } = trackerWith({ fetch: down.fetch, batchSize: 2, random: () => 0.5 });
    tracker.track('menu_view');
    tracker.track('menu_view'); // full: sent at once, answered 503
    await new Promise((r) => setImmediate(r));
    expect(timers.delays()).toEqual([500]);
    for (let i = 0; i < 4; i++) tracker.track('scroll', { scroll_depth_pct: i });
    await new Promise((r) => setImmediate(r));
    expect(down.bodies).toHaveLength(1);
    expect(timers.delays()).toEqual([500]);
    timers.runAll();
    await new Promise((r) => setImmediate(r));
    expect(down.bodies.map((b) => b.length)).toEqual([2, 2]);
    expect(down.bodies[1]).toEqual(down.bodies[0]);
  });

  it('never retries 400, 413 or 415: the batch is dropped with its reason, the next batch goes on', async () => {
    for (const status of [400, 413, 415]) {
      const down = scriptedFetch([status, 200]);
      const { tracker } = trackerWith({ fetch: down.fetch, batchSize: 2 });
      const a = tracker.track('menu_view');
      const b = tracker.track('menu_view'); // the batch is full: sent at once
      const c = tracker.track('menu_view');
      await new Promise((r) => setImmediate(r));
      await tracker.flush();
      expect(down.bodies.map(ids)).toEqual([[a.event_id, b.event_id], [c.event_id]]);
      expect(tracker.stats.dropped).toEqual({ [`rejected_${status}`]: 2 });
      expect(tracker.pending()).toEqual([]);
    }
  });

  it('gives up after maxAttempts tries and says so', async () => {
    const down = scriptedFetch([503, 503, 503]);
    const { tracker, timers } = trackerWith({ fetch: down.fetch, maxAttempts: 3 });
    tracker.track('menu_view');
    for (let i = 0; i < 4; i++) {
      timers.runAll();
      await new Promise((r) => setImmediate(r));
    }
    expect(down.bodies).toHaveLength(3);
    expect(tracker.stats.dropped).toEqual({ retries_exhausted: 1 });
    expect(tracker.pending()).toEqual([]);
  });

  it('batches: a full batch goes at once, the rest after the interval', async () => {
    const down = scriptedFetch([]);
    const { tracker, timers } = trackerWith({ fetch: down.fetch, batchSize: 25 });
    for (let i = 0; i < 26; i++) tracker.track('scroll', { scroll_depth_pct: i });
    await new Promise((r) => setImmediate(r));
    expect(down.bodies.map((b) => b.length)).toEqual([25]);
    timers.runAll();
    await new Promise((r) => setImmediate(r));
    expect(down.bodies.map((b) => b.length)).toEqual([25, 1]);
  });

  it('on leave hands the events not in flight to sendBeacon; a refused beacon keeps them queued', () => {
    const beacons: ClickEvent[][] = [];
    let accept = true;
    const sendBeacon = (_url: string, body: string) => {
      if (!accept) return false;
      beacons.push(JSON.parse(body) as ClickEvent[]);
      return true;
    };
    const { tracker, timers } = trackerWith({ fetch: () => new Promise(() => {}), sendBeacon, batchSize: 2 });
    const inFlight = [tracker.track('menu_view'), tracker.track('menu_view')]; // sent by fetch, no answer yet
    const waiting = [tracker.track('scroll', { scroll_depth_pct: 25 }), tracker.track('scroll', { scroll_depth_pct: 50 }), tracker.track('scroll', { scroll_depth_pct: 75 })];
    tracker.leave();
    expect(beacons.map(ids)).toEqual([ids(waiting.slice(0, 2)), ids(waiting.slice(2))]);
    expect(ids(tracker.pending())).toEqual(ids(inFlight));
    expect(timers.delays()).toEqual([]);

    accept = false;
    const later = tracker.track('scroll', { scroll_depth_pct: 100 });
    tracker.leave();
    expect(ids(tracker.pending())).toEqual([...ids(inFlight), later.event_id]);
  });

  it('beacons nothing while backing off: the events stay stored for the next page load', async () => {
    const beacons: string[] = [];
    const local = new MapStorage();
    const down = scriptedFetch([503]);
    const { tracker } = trackerWith({ fetch: down.fetch, storage: local, sessionStorage: new MapStorage(), sendBeacon: (_u: string, body: string) => beacons.push(body) > 0 });
    const made = [tracker.track('menu_view'), tracker.track('scroll', { scroll_depth_pct: 25 })];
    await tracker.flush(); // 503: a retry waits
    tracker.track('scroll', { scroll_depth_pct: 50 });
    tracker.leave();
    expect(beacons).toEqual([]);
    expect(ids(JSON.parse(local.getItem('clicklake:queue')!) as ClickEvent[]).slice(0, 2)).toEqual(ids(made));
    expect(tracker.pending()).toHaveLength(3);
  });
});

describe('events', () => {
  it('are valid click events: UUID ids, RFC 3339 times, the envelope, page context and per-type fields', () => {
    const page = () => ({ viewport: { width: 390, height: 844 }, user_agent: 'Mozilla/5.0', page_url: 'https://menu.example/', referrer: null, locale: 'fr-FR' });
    const { tracker } = trackerWith({ fetch: undefined, page, appVersion: '1.2.0' });
    const made = [
      tracker.track('menu_view'),
      tracker.track('section_view', { section: 'Desserts', section_index: 3 }),
      tracker.track('item_view', { item_id: 'creme-brulee', item_name: 'Crème brûlée', price_cents: 850, position: 0 }),
      tracker.track('item_click', { item_id: 'pho-bo', item_name: 'Phở bò', price_cents: 1450, position: 1 }),
      tracker.track('order_click', { item_id: 'sushi', item_name: '寿司', price_cents: 2200, position: 2 }),
      tracker.track('scroll', { scroll_depth_pct: 50 }),
    ];
    for (const e of made) {
      expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
      expect(e.event_id).toMatch(UUID);
      expect(e).toMatchObject({ event_time: '2026-12-03T12:30:00.250Z', restaurant_id: 'r-001', menu_id: 'dinner', locale: 'fr-FR', app_version: '1.2.0' });
    }
    expect(new Set(ids(made)).size).toBe(made.length);
    expect(() => tracker.track('tap')).toThrow(/unknown event type tap/);
  });

  it('refuses a tracker without its config, naming the missing attribute', () => {
    expect(() => api.createTracker({ endpoint: '/events', menuId: 'dinner' })).toThrow(/missing restaurantId \(data-restaurant-id on the script tag\)/);
  });
});
