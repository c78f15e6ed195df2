-- item_conversion: which dishes turn a view into an order click, per restaurant and day?
--
-- One row per (restaurant_id, dt, item_id) of item_views_daily.
-- Output columns:
--   restaurant_id    varchar  restaurant
--   dt               varchar  event date (UTC, 'YYYY-MM-DD'); WHERE dt ... prunes partitions
--   item_id          varchar  the dish
--   item_name        varchar  as in item_views_daily
--   views            bigint   item_view events that day
--   order_clicks     bigint   order_click events that day
--   conversion_rate  double   order_clicks / views; NULL when views = 0 (ordered without a view,
--                             e.g. from a "featured" button); can exceed 1 (several orders per view)
-- Over a date range, do NOT average conversion_rate: recompute it from the sums,
--   CAST(sum(order_clicks) AS double) / nullif(sum(views), 0).
CREATE OR REPLACE VIEW item_conversion AS
SELECT
  restaurant_id,
  dt,
  item_id,
  item_name,
  views,
  order_clicks,
  CASE WHEN views = 0 THEN NULL ELSE CAST(order_clicks AS double) / views END AS conversion_rate
FROM item_views_daily
