/**
 * One visit to the demo menu in a real browser, as a guest would make it: open the page, scroll
 * through every section, tap a dish, order another, leave (pagehide). Shared by the browser tests
 * of the tracker and the end-to-end test through `clicklake serve`.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

/** The few browser globals the page functions use (the project's TypeScript has no DOM lib). */
interface Attributes { getAttribute(name: string): string | null }
interface PageGlobals {
  requestAnimationFrame(fn: () => void): void;
  scrollBy(x: number, y: number): void;
  scrollY: number;
  innerHeight: number;
  document: { documentElement: { scrollHeight: number }; querySelectorAll(selector: string): Iterable<Attributes> };
  clicklake: { tracker?: { stats: { queued: number; sent: number; dropped: Record<string, number> }; sessionId: string } };
}

export const TAPPED_ITEM = 'pho-bo';
export const ORDERED_ITEM = 'creme-brulee';

export interface MenuVisit {
  /** Events the page's tracker made (what the server must end up with, once each). */
  made: number;
  dropped: Record<string, number>;
  sessionId: string;
  /** The dishes on the page, in page order. */
  itemIds: string[];
  sections: Array<{ name: string; index: number }>;
}

async function nextFrames(page: Page): Promise<void> {
  // IntersectionObserver reports after a rendering update: two frames make sure it ran.
  await page.evaluate(() => new Promise<void>((r) => {
    const w = globalThis as unknown as PageGlobals;
    w.requestAnimationFrame(() => w.requestAnimationFrame(() => r()));
  }));
}

/** Scrolls in steps of `step` pixels to the bottom, letting every step render. */
export async function scrollToBottom(page: Page, step = 300): Promise<void> {
  for (;;) {
    const atBottom = await page.evaluate((dy) => {
      const w = globalThis as unknown as PageGlobals;
      w.scrollBy(0, dy);
      return w.scrollY + w.innerHeight >= w.document.documentElement.scrollHeight - 1;
    }, step);
    await nextFrames(page);
    if (atBottom) return;
  }
}

/**
 * Visits `url` (the menu) in `context` (with `trackerConfig` as window.clicklakeConfig): scroll to the bottom, tap TAPPED_ITEM, order ORDERED_ITEM
 * (waits for the order API's answer), then, before leaving, calls `beforeLeave` (e.g. to wait for
 * the server's first answers), and navigates to about:blank so pagehide fires.
 */
export async function visitMenu(context: BrowserContext, url: string, beforeLeave?: (page: Page) => Promise<void>, trackerConfig?: Record<string, number>): Promise<MenuVisit> {
  const page = await context.newPage();
  if (trackerConfig) await page.addInitScript((config) => { (globalThis as unknown as { clicklakeConfig: unknown }).clicklakeConfig = config; }, trackerConfig);
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as Partial<PageGlobals>).clicklake?.tracker !== undefined);
  const layout = await page.evaluate(() => {
    const doc = (globalThis as unknown as PageGlobals).document;
    return {
      itemIds: [...doc.querySelectorAll('[data-item-id]')].map((el) => el.getAttribute('data-item-id')!),
      sections: [...doc.querySelectorAll('[data-section]')].map((el) => ({ name: el.getAttribute('data-section')!, index: Number(el.getAttribute('data-section-index')) })),
    };
  });
  await nextFrames(page);
  await scrollToBottom(page);

  await page.locator(`[data-item-id="${TAPPED_ITEM}"] h3`).click();
  const ordered = page.waitForResponse((r) => new URL(r.url()).pathname === '/order' && r.request().method() === 'POST');
  await page.locator(`[data-item-id="${ORDERED_ITEM}"] [data-order-item]`).click();
  await ordered;
  await page.locator('.toast:not([hidden])').waitFor();

  if (beforeLeave) await beforeLeave(page);
  const state = await page.evaluate(() => {
    const t = (globalThis as unknown as PageGlobals).clicklake.tracker!;
    return { made: t.stats.queued, dropped: { ...t.stats.dropped }, sessionId: t.sessionId };
  });
  await page.goto('about:blank');
  await page.close();
  return { ...state, ...layout };
}

/**
 * Waits until the page's tracker has had a batch accepted. A request reaching the server is not
 * enough: until its answer is handled the tracker still backs off, and leaving then beacons
 * nothing (the events wait for the next page load).
 */
export async function trackerHasSent(page: Page, ms = 30_000): Promise<void> {
  await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).clicklake.tracker?.stats.sent ?? 0) > 0, undefined, { timeout: ms });
}

/** Polls `check` until it returns true or `ms` pass; then throws with `what`. */
export async function waitUntil(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A time as milliseconds, from an RFC 3339 string (as sent) or a Date (as read from Parquet). */
function ms(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

/**
 * Asserts that `events` are exactly what `visit` made, once each: as the server received them or
 * as curated rows read back (event_time a Date there). One menu_view, the section views in menu
 * order, every dish seen, the tap, the order, the scroll depths 25/50/75/100, one session.
 */
export function expectVisitEvents(events: Array<Record<string, unknown>>, visit: MenuVisit): void {
  expect(visit.dropped).toEqual({});
  expect(events).toHaveLength(visit.made);
  expect(new Set(events.map((e) => e['event_id'])).size).toBe(visit.made);
  for (const e of events) expect(e).toMatchObject({ session_id: visit.sessionId, restaurant_id: 'corner-table', menu_id: 'all-day' });
  const of = (type: string) => events.filter((e) => e['event_type'] === type).sort((a, b) => ms(a['event_time']) - ms(b['event_time']) || Number(a['section_index']) - Number(b['section_index']));
  expect(of('menu_view')).toHaveLength(1);
  expect(of('section_view').map((e) => [e['section_index'], e['section']])).toEqual(visit.sections.map((s) => [s.index, s.name]));
  expect(of('item_view').map((e) => e['item_id']).sort()).toEqual([...visit.itemIds].sort());
  expect(of('item_click').map((e) => e['item_id'])).toEqual([TAPPED_ITEM]);
  expect(of('order_click').map((e) => e['item_id'])).toEqual([ORDERED_ITEM]);
  expect(of('order_click')[0]).toMatchObject({ item_name: 'Crème brûlée', price_cents: 850, position: 0 });
  expect(of('scroll').map((e) => e['scroll_depth_pct']).sort((a, b) => Number(a) - Number(b))).toEqual([25, 50, 75, 100]);
  expect(new Set(events.map((e) => e['anonymous_id'])).size).toBe(1);
}
