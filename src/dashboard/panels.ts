/**
 * What the dashboard shows: one panel per owner's question, each a query over a curated view
 * (sql/views/), the columns of its table, and the Vega-Lite chart of its rows. Counts are summed
 * over the filtered days; rates are recomputed from the sums (never averaged).
 */
import type { TopLevelSpec } from 'vega-lite';

/** text as is; integer with thousands separators; number to one decimal; share as a percentage. */
export type ColumnKind = 'text' | 'integer' | 'number' | 'share';

export interface PanelColumn {
  name: string;
  label: string;
  kind: ColumnKind;
}

export type Row = Record<string, string | number | null>;

export interface Panel {
  id: string;
  title: string;
  /** One line under the title: how to read it. */
  explain: string;
  /** The curated view it reads. */
  view: string;
  sql(where: string): string;
  columns: PanelColumn[];
  chart(rows: Row[]): TopLevelSpec;
}

const ACCENT = '#b5452b';
const LIGHT = '#e9c3b6';
const WIDTH = 460;
/** Counts are whole: no 0.5 ticks. */
const COUNT_AXIS = { format: ',d', tickMinStep: 1 } as const;

/**
 * Rows with a `dish` label: the dish's name, or its id when the events carried none; names that
 * two ids share (two restaurants' "Pho") get the id added, so the chart keeps them apart.
 */
function withDishLabels(rows: Row[]): Row[] {
  const name = (r: Row) => String(r['item_name'] ?? r['item_id']);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(name(r), (counts.get(name(r)) ?? 0) + 1);
  return rows.map((r) => ({ ...r, dish: counts.get(name(r))! > 1 ? `${name(r)} · ${String(r['item_id'])}` : name(r) }));
}

function barHeight(rows: Row[]): number {
  return Math.max(60, rows.length * 24);
}

export const TOP_DISHES: Panel = {
  id: 'most_viewed_dishes',
  title: 'Most viewed dishes',
  explain: 'Dishes guests looked at most (a dish counts as viewed when half of it scrolls into view).',
  view: 'item_views_daily',
  sql: (where) => `SELECT item_id, max(item_name) AS item_name, sum(views) AS views, sum(clicks) AS clicks, sum(order_clicks) AS order_clicks
FROM item_views_daily ${where}
GROUP BY item_id
ORDER BY views DESC, item_id
LIMIT 15`,
  columns: [
    { name: 'item_name', label: 'Dish', kind: 'text' },
    { name: 'item_id', label: 'Id', kind: 'text' },
    { name: 'views', label: 'Views', kind: 'integer' },
    { name: 'clicks', label: 'Taps', kind: 'integer' },
    { name: 'order_clicks', label: 'Orders', kind: 'integer' },
  ],
  chart: (rows) => ({
    width: WIDTH,
    height: barHeight(rows),
    data: { values: withDishLabels(rows) },
    mark: { type: 'bar', color: ACCENT, cornerRadiusEnd: 3 },
    encoding: {
      y: { field: 'dish', type: 'nominal', sort: { field: 'views', order: 'descending' }, title: null, axis: { labelLimit: 200 } },
      x: { field: 'views', type: 'quantitative', title: 'Views', axis: COUNT_AXIS },
      tooltip: [{ field: 'dish' }, { field: 'views', format: ',' }],
    },
  }),
};

export const SECTION_FUNNEL: Panel = {
  id: 'section_funnel',
  title: 'Where guests stop in the menu',
  explain: 'Visits that read at least this far (light) and visits whose deepest section was this one (dark), sections in menu order.',
  view: 'menu_section_funnel',
  sql: (where) => `SELECT section_index, max(section) AS section, sum(sessions_reached) AS sessions_reached, sum(sessions_stopped_here) AS sessions_stopped_here,
  CAST(sum(sessions_stopped_here) AS double) / nullif(sum(sessions_reached), 0) AS stop_share
FROM menu_section_funnel ${where}
GROUP BY section_index
ORDER BY section_index`,
  columns: [
    { name: 'section_index', label: 'Place (0 = first)', kind: 'integer' },
    { name: 'section', label: 'Section', kind: 'text' },
    { name: 'sessions_reached', label: 'Visits reaching it', kind: 'integer' },
    { name: 'sessions_stopped_here', label: 'Stopped here', kind: 'integer' },
    { name: 'stop_share', label: 'Stop share', kind: 'share' },
  ],
  chart: (rows) => ({
    width: WIDTH,
    height: barHeight(rows),
    data: { values: rows },
    encoding: {
      y: { field: 'section', type: 'nominal', sort: { field: 'section_index', order: 'ascending' }, title: null, axis: { labelLimit: 200 } },
    },
    layer: [
      { mark: { type: 'bar', color: LIGHT, cornerRadiusEnd: 3 }, encoding: { x: { field: 'sessions_reached', type: 'quantitative', title: 'Visits', axis: COUNT_AXIS } } },
      { mark: { type: 'bar', color: ACCENT, cornerRadiusEnd: 3, height: { band: 0.45 } }, encoding: { x: { field: 'sessions_stopped_here', type: 'quantitative' } } },
    ],
  }),
};

export const SCROLL_DEPTH: Panel = {
  id: 'scroll_depth',
  title: 'How far down the menu guests scroll',
  explain: 'Visits by the deepest point of the page they reached; a visit that never scrolled counts as 0-24%.',
  view: 'scroll_depth_distribution',
  sql: (where) => `SELECT depth_bucket, depth_range, sum(sessions) AS sessions
FROM scroll_depth_distribution ${where}
GROUP BY depth_bucket, depth_range
ORDER BY depth_bucket`,
  columns: [
    { name: 'depth_range', label: 'Scrolled (%)', kind: 'text' },
    { name: 'depth_bucket', label: 'From (%)', kind: 'integer' },
    { name: 'sessions', label: 'Visits', kind: 'integer' },
  ],
  chart: (rows) => ({
    width: WIDTH,
    height: 200,
    data: { values: rows },
    transform: [{ calculate: "datum.depth_range + '%'", as: 'range' }],
    mark: { type: 'bar', color: ACCENT, cornerRadiusEnd: 3 },
    encoding: {
      x: { field: 'range', type: 'ordinal', sort: { field: 'depth_bucket', order: 'ascending' }, title: 'Deepest point reached', axis: { labelAngle: 0 } },
      y: { field: 'sessions', type: 'quantitative', title: 'Visits', axis: COUNT_AXIS },
    },
  }),
};

export const CONVERSION: Panel = {
  id: 'view_to_order',
  title: 'From a look to an order',
  explain: 'Order clicks per view for the 15 most viewed dishes (can pass 100% when a guest orders twice).',
  view: 'item_conversion',
  sql: (where) => `SELECT item_id, max(item_name) AS item_name, sum(views) AS views, sum(order_clicks) AS order_clicks,
  CAST(sum(order_clicks) AS double) / nullif(sum(views), 0) AS conversion_rate
FROM item_conversion ${where}
GROUP BY item_id
HAVING sum(views) > 0
ORDER BY views DESC, item_id
LIMIT 15`,
  columns: [
    { name: 'item_name', label: 'Dish', kind: 'text' },
    { name: 'item_id', label: 'Id', kind: 'text' },
    { name: 'views', label: 'Views', kind: 'integer' },
    { name: 'order_clicks', label: 'Orders', kind: 'integer' },
    { name: 'conversion_rate', label: 'Orders per view', kind: 'share' },
  ],
  chart: (rows) => ({
    width: WIDTH,
    height: barHeight(rows),
    data: { values: withDishLabels(rows) },
    mark: { type: 'bar', color: ACCENT, cornerRadiusEnd: 3 },
    encoding: {
      y: { field: 'dish', type: 'nominal', sort: { field: 'conversion_rate', order: 'descending' }, title: null, axis: { labelLimit: 200 } },
      x: { field: 'conversion_rate', type: 'quantitative', title: 'Orders per view', axis: { format: '.0%' } },
    },
  }),
};

export const SESSIONS_DAILY: Panel = {
  id: 'visits_per_day',
  title: 'Visits per day',
  explain: 'Menu visits (sessions) by the day they started (UTC), and how many of them ordered (dark).',
  view: 'session_summary',
  sql: (where) => `SELECT dt, count(*) AS sessions, count_if(ordered) AS ordering_sessions, round(avg(duration_seconds), 1) AS avg_duration_seconds
FROM session_summary ${where}
GROUP BY dt
ORDER BY dt`,
  columns: [
    { name: 'dt', label: 'Day', kind: 'text' },
    { name: 'sessions', label: 'Visits', kind: 'integer' },
    { name: 'ordering_sessions', label: 'With an order', kind: 'integer' },
    { name: 'avg_duration_seconds', label: 'Avg. seconds', kind: 'number' },
  ],
  chart: (rows) => ({
    width: WIDTH,
    height: 200,
    data: { values: rows },
    encoding: { x: { field: 'dt', type: 'ordinal', title: null, axis: { labelAngle: rows.length > 7 ? -45 : 0 } } },
    layer: [
      { mark: { type: 'bar', color: LIGHT, cornerRadiusEnd: 3 }, encoding: { y: { field: 'sessions', type: 'quantitative', title: 'Visits', axis: COUNT_AXIS } } },
      { mark: { type: 'bar', color: ACCENT, cornerRadiusEnd: 3, width: { band: 0.45 } }, encoding: { y: { field: 'ordering_sessions', type: 'quantitative' } } },
    ],
  }),
};

/** In page order: the question an owner asks first comes first. */
export const PANELS: readonly Panel[] = [TOP_DISHES, SECTION_FUNNEL, SCROLL_DEPTH, CONVERSION, SESSIONS_DAILY];
