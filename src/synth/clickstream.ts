import { Random } from './random.js';

/** A click event as the menu page sends it (see schemas/click_event.schema.json). */
export type ClickEvent = Record<string, unknown> & { event_id: string; event_time: string; event_type: string };

interface Dish {
  id: string;
  name: string;
  price: number;
}
interface Section {
  name: string;
  dishes: Dish[];
}
interface Restaurant {
  id: string;
  menuId: string;
  sections: Section[];
}

const SECTION_NAMES = ['Appetizers', 'Soups & Salads', 'Mains', 'Pasta', 'Grill', 'Desserts', 'Drinks'];
const DISH_WORDS = ['Crispy', 'Smoked', 'Grilled', 'Spicy', 'Garlic', 'Truffle', 'Lemon', 'Crème', 'Jalapeño', 'Miso', 'Pho', 'Bánh', 'Käse', '焼き', 'Tarte', 'Burrata', 'Calamari', 'Risotto', 'Tiramisù', 'Gyoza'];
const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36',
];
const LOCALES = ['en-US', 'de-DE', 'fr-FR', 'es-ES', 'ja-JP', 'vi-VN'];

export interface ClickstreamOptions {
  seed: number;
  /** Number of events to produce, exactly (the last session is cut to fit). */
  events: number;
  /** First instant of the stream (UTC ms). */
  startMs: number;
  /** Span the sessions start in (ms). */
  spanMs: number;
  restaurants?: number;
}

function buildRestaurants(rng: Random, count: number): Restaurant[] {
  return Array.from({ length: count }, (_, r) => {
    const sectionCount = rng.int(4, SECTION_NAMES.length);
    const sections = SECTION_NAMES.slice(0, sectionCount).map((name, s) => ({
      name,
      dishes: Array.from({ length: rng.int(4, 9) }, (_, d) => ({
        id: `r${r}-s${s}-d${d}`,
        name: `${rng.pick(DISH_WORDS)} ${rng.pick(DISH_WORDS)} ${d + 1}`,
        price: rng.int(300, 4500),
      })),
    }));
    return { id: `rest-${String(r + 1).padStart(3, '0')}`, menuId: `menu-${r + 1}-v${rng.int(1, 3)}`, sections };
  });
}

/**
 * A realistic menu clickstream in session order: a guest opens the menu, scrolls, views sections
 * in menu order and dishes within them, sometimes stops after the first sections, sometimes
 * clicks a dish and orders. Times jitter with random offsets (some non-UTC) like real devices.
 */
export function* clickstream(options: ClickstreamOptions): Generator<ClickEvent> {
  // A session emits events in steps of up to three, so the count is cut here, not inside it.
  let yielded = 0;
  if (options.events <= 0) return;
  for (const event of sessions(options)) {
    yield event;
    if (++yielded >= options.events) return;
  }
}

function* sessions(options: ClickstreamOptions): Generator<ClickEvent> {
  const rng = new Random(options.seed);
  const restaurants = buildRestaurants(rng, options.restaurants ?? 12);
  let produced = 0;
  while (produced < options.events) {
    const restaurant = rng.pick(restaurants);
    const session = rng.uuid();
    const anonymous = `anon-${rng.uuid().slice(0, 13)}`;
    const ua = rng.pick(USER_AGENTS);
    const locale = rng.pick(LOCALES);
    const offsetMin = rng.pick([0, 0, 0, 60, 120, -300, -420, 330, 540]);
    const viewport = { width: rng.pick([360, 390, 412, 430]), height: rng.pick([740, 844, 915, 932]) };
    const table = String(rng.int(1, 40));
    let t = options.startMs + Math.floor(rng.next() * options.spanMs);
    const base = {
      session_id: session,
      anonymous_id: anonymous,
      restaurant_id: restaurant.id,
      menu_id: restaurant.menuId,
      viewport,
      user_agent: ua,
      page_url: `https://menu.example.com/${restaurant.id}?table=${table}`,
      referrer: rng.chance(0.8) ? null : 'https://www.google.com/',
      locale,
      app_version: '3.14.2',
      attributes: { table, qr: `qr-${restaurant.id}-${table}` },
    };
    const emit = (type: string, extra: Record<string, unknown>): ClickEvent => {
      t += rng.int(800, 25_000);
      produced++;
      return { event_id: rng.uuid(), event_type: type, event_time: isoWithOffset(t, offsetMin), ...base, ...extra } as ClickEvent;
    };
    yield emit('menu_view', {});
    // Most guests stop early: the deepest section follows a geometric-ish curve.
    const deepest = Math.min(restaurant.sections.length - 1, Math.floor(-Math.log(1 - rng.next()) * 1.6));
    let ordered = false;
    for (let s = 0; s <= deepest && produced < options.events; s++) {
      const section = restaurant.sections[s]!;
      yield emit('section_view', { section: section.name, section_index: s });
      yield emit('scroll', { scroll_depth_pct: Math.min(100, Math.round(((s + 1) / restaurant.sections.length) * 100)) });
      const looks = rng.int(0, Math.min(4, section.dishes.length));
      for (let i = 0; i < looks && produced < options.events; i++) {
        const pos = rng.int(0, section.dishes.length - 1);
        const dish = section.dishes[pos]!;
        const item = { section: section.name, section_index: s, item_id: dish.id, item_name: dish.name, price_cents: dish.price, position: pos };
        yield emit('item_view', item);
        if (rng.chance(0.35)) yield emit('item_click', item);
        if (!ordered && rng.chance(0.12)) {
          yield emit('order_click', item);
          ordered = true;
        }
      }
    }
  }
}

/** RFC 3339 with a numeric offset, as a device in that zone writes it (`Z` for UTC). */
export function isoWithOffset(ms: number, offsetMin: number): string {
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
