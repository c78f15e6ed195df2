-- item_views_daily: which dishes are viewed, clicked and ordered, per restaurant and day?
--
-- One row per (restaurant_id, dt, item_id) with at least one item event that day.
-- Output columns:
--   restaurant_id    varchar  restaurant the events belong to
--   dt               varchar  event date (UTC, 'YYYY-MM-DD'); WHERE dt ... prunes partitions
--   item_id          varchar  the dish
--   item_name        varchar  max(item_name) seen that day (names can be edited; one is picked)
--   views            bigint   item_view events
--   clicks           bigint   item_click events
--   order_clicks     bigint   order_click events
--   unique_sessions  bigint   distinct sessions with any item_view/item_click/order_click of the item
-- Counts are per dt: summing views/clicks/order_clicks over a date range is correct, summing
-- unique_sessions is not (a session active on two days is counted on both).
CREATE OR REPLACE VIEW item_views_daily AS
SELECT
  restaurant_id,
  dt,
  item_id,
  max(item_name) AS item_name,
  count_if(event_type = 'item_view') AS views,
  count_if(event_type = 'item_click') AS clicks,
  count_if(event_type = 'order_click') AS order_clicks,
  count(DISTINCT session_id) AS unique_sessions
FROM click_events
WHERE event_type IN ('item_view', 'item_click', 'order_click')
  AND item_id IS NOT NULL
GROUP BY restaurant_id, dt, item_id
