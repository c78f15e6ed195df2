-- session_summary: how long do sessions last, how deep do they go, and do they order?
--
-- One row per session, on the dt of its first event (session start, UTC). A session that spans
-- midnight is ONE row: its events on the following dt are added in (a session is assumed to last
-- less than a day; events two or more dts after the start are not included). Each dt's piece of
-- a session is built on its own, then joined to the same session's piece on the previous dt (to
-- drop sessions that started earlier) and on the next dt (to complete those that run past
-- midnight). WHERE dt = 'D' on this view prunes the start day to D; the neighbour pieces are
-- joined on dt = D-1 / D+1, which Trino's predicate inference and dynamic filtering use to limit
-- those reads to the neighbouring partitions.
-- Output columns:
--   session_id             varchar    the session
--   restaurant_id          varchar    restaurant (min over the start day's events)
--   anonymous_id           varchar    visitor (min over the start day's events)
--   dt                     varchar    date of the session start (UTC, 'YYYY-MM-DD')
--   session_start          timestamp  first event_time (UTC)
--   session_end            timestamp  last event_time (UTC)
--   duration_seconds       double     session_end - session_start in seconds (millisecond precision)
--   events                 bigint     number of events
--   deepest_section_index  integer    largest section_index of a section_view; NULL if none
--   max_scroll_depth_pct   integer    largest scroll_depth_pct of a scroll event; NULL if none
--   ordered                boolean    true if the session has any order_click
CREATE OR REPLACE VIEW session_summary AS
WITH pieces AS (
  SELECT
    session_id,
    dt,
    min(restaurant_id) AS restaurant_id,
    min(anonymous_id) AS anonymous_id,
    min(event_time) AS session_start,
    max(event_time) AS session_end,
    count(*) AS events,
    max(CASE WHEN event_type = 'section_view' THEN section_index END) AS deepest_section_index,
    max(CASE WHEN event_type = 'scroll' THEN scroll_depth_pct END) AS max_scroll_depth_pct,
    count_if(event_type = 'order_click') > 0 AS ordered
  FROM click_events
  GROUP BY session_id, dt
)
SELECT
  p.session_id,
  p.restaurant_id,
  p.anonymous_id,
  p.dt,
  p.session_start,
  coalesce(n.session_end, p.session_end) AS session_end,
  CAST(date_diff('millisecond', p.session_start, coalesce(n.session_end, p.session_end)) AS double) / 1000 AS duration_seconds,
  p.events + coalesce(n.events, 0) AS events,
  coalesce(greatest(p.deepest_section_index, n.deepest_section_index), p.deepest_section_index, n.deepest_section_index) AS deepest_section_index,
  coalesce(greatest(p.max_scroll_depth_pct, n.max_scroll_depth_pct), p.max_scroll_depth_pct, n.max_scroll_depth_pct) AS max_scroll_depth_pct,
  p.ordered OR coalesce(n.ordered, false) AS ordered
FROM pieces AS p
LEFT JOIN pieces AS n
  ON n.session_id = p.session_id
  AND n.dt = CAST(CAST(CAST(p.dt AS date) + INTERVAL '1' DAY AS date) AS varchar)
LEFT JOIN pieces AS b
  ON b.session_id = p.session_id
  AND b.dt = CAST(CAST(CAST(p.dt AS date) - INTERVAL '1' DAY AS date) AS varchar)
WHERE b.session_id IS NULL
