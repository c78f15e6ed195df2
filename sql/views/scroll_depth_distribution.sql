-- scroll_depth_distribution: how far down the menu do sessions scroll, per restaurant and day?
--
-- Each session's depth is its max scroll_depth_pct WITHIN ONE dt (a session spanning midnight UTC
-- counts on each dt, with that day's depth). A session with events that day but no scroll event
-- counts as depth 0: it opened the menu and never scrolled.
-- One row per (restaurant_id, dt, depth_bucket) for every restaurant/dt with sessions; all four
-- buckets are present, with sessions = 0 where none fell in.
-- Output columns:
--   restaurant_id  varchar  restaurant
--   dt             varchar  event date (UTC, 'YYYY-MM-DD'); WHERE dt ... prunes partitions
--   depth_bucket   integer  lower bound of the bucket: 0 (0-24%), 25 (25-49%), 50 (50-74%), 75 (75-100%)
--   depth_range    varchar  the bucket as text: '0-24', '25-49', '50-74', '75-100'
--   sessions       bigint   sessions whose max scroll depth falls in the bucket
-- Buckets use CASE, not depth / 25 * 25: integer division differs between engines (see
-- src/query/trino-macros.ts).
CREATE OR REPLACE VIEW scroll_depth_distribution AS
WITH session_depth AS (
  SELECT
    restaurant_id,
    dt,
    session_id,
    coalesce(max(CASE WHEN event_type = 'scroll' THEN scroll_depth_pct END), 0) AS max_scroll_depth_pct
  FROM click_events
  GROUP BY restaurant_id, dt, session_id
),
bucketed AS (
  SELECT
    restaurant_id,
    dt,
    CASE
      WHEN max_scroll_depth_pct >= 75 THEN 75
      WHEN max_scroll_depth_pct >= 50 THEN 50
      WHEN max_scroll_depth_pct >= 25 THEN 25
      ELSE 0
    END AS depth_bucket
  FROM session_depth
),
restaurant_days AS (
  SELECT DISTINCT restaurant_id, dt
  FROM bucketed
),
buckets AS (
  SELECT depth_bucket, depth_range
  FROM (VALUES (0, '0-24'), (25, '25-49'), (50, '50-74'), (75, '75-100')) AS b (depth_bucket, depth_range)
)
SELECT
  r.restaurant_id,
  r.dt,
  b.depth_bucket,
  b.depth_range,
  count(s.depth_bucket) AS sessions
FROM restaurant_days AS r
CROSS JOIN buckets AS b
LEFT JOIN bucketed AS s
  ON s.restaurant_id = r.restaurant_id
  AND s.dt = r.dt
  AND s.depth_bucket = b.depth_bucket
GROUP BY r.restaurant_id, r.dt, b.depth_bucket, b.depth_range
