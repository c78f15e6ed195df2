/**
 * The tracker on the demo menu in real headless Chromium: the page is served from web/ by a small
 * server that records every POST /events; a guest scrolls, taps, orders and leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAjv, type ValidateFunction } from '../src/schema/ajv.js';
import { loadTable } from '../src/schema/load.js';
import { chromiumSkipReason, launchChromium, type Browser } from './support/chromium.js';
import { expectVisitEvents, ORDERED_ITEM, trackerHasSent, visitMenu, waitUntil, type MenuVisit } from './support/menu-visit.js';
import { startWebServer, type EventsRequest, type WebServer } from './support/web-server.js';

const skip = chromiumSkipReason();
if (skip) console.warn(`skipping the browser tests of the menu: ${skip}`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let browser: Browser;
let validate: ValidateFunction;

beforeAll(async () => {
  if (skip) return;
  validate = createAjv().compile((await loadTable('click_events')).jsonSchema);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

type Event = EventsRequest['events'][number];

/** Each event of the 200-answered requests once, in arrival order; and how many arrived twice. */
function delivered(requests: EventsRequest[]): { events: Event[]; repeats: number } {
  const seen = new Map<string, Event>();
  let repeats = 0;
  for (const r of requests.filter((q) => q.status === 200)) {
    for (const e of r.events) {
      if (seen.has(e.event_id)) repeats++;
      else seen.set(e.event_id, e);
    }
  }
  return { events: [...seen.values()], repeats };
}

/** The visit's events, each valid by the schema, with the ids the browser made. */
function expectVisit(events: Event[], visit: MenuVisit): void {
  for (const e of events) {
    expect(validate(e), `${JSON.stringify(e)}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(e.event_id).toMatch(UUID);
  }
  expectVisitEvents(events, visit);
}

describe.skipIf(skip)('the demo menu in Chromium', () => {
  let server: WebServer;
  afterAll(async () => {
    await server?.close();
  });

  it('sends every event of a visit once: the menu, the sections in menu order, each dish seen, the tap, the order, the scroll depths', async () => {
    server = await startWebServer();
    // No timer flush: full batches go by fetch, the rest must leave by sendBeacon on pagehide.
    const visit = await visitMenu(browser.context, `${server.base}/`, undefined, { flushIntervalMs: 600_000 });
    await waitUntil(() => delivered(server.requests).events.length >= visit.made, `${visit.made} events at the server`);
    const { events, repeats } = delivered(server.requests);
    expectVisit(events, visit);
    expect(repeats).toBe(0);
    expect(server.requests.every((r) => r.contentType.startsWith('text/plain'))).toBe(true);
    expect(server.requests.every((r) => r.events.length <= 25)).toBe(true);
    const beaconed = server.requests.filter((r) => r.fetchMode === 'no-cors').flatMap((r) => r.events);
    expect(beaconed.length).toBe(visit.made % 25);
    expect(beaconed.map((e) => e.event_type)).toEqual(expect.arrayContaining(['item_click', 'order_click']));
    expect(server.requests.filter((r) => r.fetchMode === 'cors').map((r) => r.events.length)).toEqual(Array(Math.floor(visit.made / 25)).fill(25));
    expect(server.orders).toEqual([{ item_id: ORDERED_ITEM, item_name: 'Crème brûlée', price_cents: 850, quantity: 1 }]);
    await server.close();
  });

  it('with 503 to the first requests, every event still arrives, with the ids it was first sent with', async () => {
    const failFirst = 3;
    server = await startWebServer({ failFirst });
    const visit = await visitMenu(browser.context, `${server.base}/`, async (page) => {
      await waitUntil(() => server.requests.length > failFirst, 'the retries past the 503s');
      await trackerHasSent(page);
    });
    await waitUntil(() => delivered(server.requests).events.length >= visit.made, `${visit.made} events at the server`);
    const failed = server.requests.filter((r) => r.status === 503);
    expect(failed).toHaveLength(failFirst);
    const { events } = delivered(server.requests);
    expectVisit(events, visit);
    const arrived = new Set(events.map((e) => e.event_id));
    const refused = failed.flatMap((r) => r.events);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) expect(arrived.has(e.event_id)).toBe(true);
    // The retried events are the same events, not new ones made for the retry.
    const first = new Map(refused.map((e) => [e.event_id, e]));
    for (const e of events.filter((x) => first.has(x.event_id))) expect(e).toEqual(first.get(e.event_id));
  });

  it('when the server is down as the guest leaves, the events wait in localStorage and arrive, with their ids, on the next page load', async () => {
    server = await startWebServer();
    server.failing = true;
    const visit = await visitMenu(browser.context, `${server.base}/`, () => waitUntil(() => server.requests.length > 0, 'a first refused request'));
    const refusedIds = new Set(server.requests.flatMap((r) => r.events.map((e) => e.event_id)));
    expect(delivered(server.requests).events).toEqual([]);
    server.failing = false;

    const page = await browser.context.newPage(); // a new tab: a new session, the same browser
    await page.goto(`${server.base}/`);
    const isFirstVisit = (e: Event) => e.session_id === visit.sessionId;
    await waitUntil(() => delivered(server.requests).events.filter(isFirstVisit).length >= visit.made, `the first visit's ${visit.made} events`);
    await page.close();
    const events = delivered(server.requests).events;
    expectVisit(events.filter(isFirstVisit), visit);
    for (const id of refusedIds) expect(events.some((e) => e.event_id === id)).toBe(true);
    const later = events.filter((e) => !isFirstVisit(e));
    expect(later.map((e) => e.event_type)).toContain('menu_view');
    expect(new Set(later.map((e) => e.anonymous_id))).toEqual(new Set([events[0]!.anonymous_id]));
  });
});
