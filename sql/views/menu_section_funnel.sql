-- menu_section_funnel: where in the menu do people stop (do they stop after the appetizers?),
-- per restaurant and day.
--
-- A session's deepest section is the largest section_index among its section_view events WITHIN
-- ONE dt. A session that spans midnight (UTC) is counted on each dt it has section views on, with
-- that day's deepest section (this keeps every dt independent, so WHERE dt ... prunes partitions
-- and a day's numbers never change when the next day arrives). Sessions without any section_view
-- that day are not in the funnel.
-- One row per (restaurant_id, dt, section_index) seen in a section_view that day.
-- Output columns:
--   restaurant_id          varchar  restaurant
--   dt                     varchar  event date (UTC, 'YYYY-MM-DD')
--   section_index          integer  the section's place in the menu (0 = first, e.g. appetizers)
--   section                varchar  max(section) name seen for that index that day
--   sessions_reached       bigint   sessions whose deepest section_index >= this index (got at least this far)
--   sessions_stopped_here  bigint   sessions whose deepest section_index = this index
--   stop_share             double   sessions_stopped_here / sessions_reached
CREATE OR REPLACE VIEW menu_section_funnel AS
WITH section_views AS (
  SELECT restaurant_id, dt, session_id, section_index, section
  FROM click_events
  WHERE event_type = 'section_view'
    AND section_index IS NOT NULL
),
session_depth AS (
  SELECT restaurant_id, dt, session_id, max(section_index) AS deepest_section_index
  FROM section_views
  GROUP BY restaurant_id, dt, session_id
),
menu_sections AS (
  SELECT restaurant_id, dt, section_index, max(section) AS section
  FROM section_views
  GROUP BY restaurant_id, dt, section_index
)
SELECT
  s.restaurant_id,
  s.dt,
  s.section_index,
  s.section,
  count_if(d.deepest_section_index >= s.section_index) AS sessions_reached,
  count_if(d.deepest_section_index = s.section_index) AS sessions_stopped_here,
  CAST(count_if(d.deepest_section_index = s.section_index) AS double)
    / nullif(count_if(d.deepest_section_index >= s.section_index), 0) AS stop_share
FROM menu_sections AS s
JOIN session_depth AS d
  ON d.restaurant_id = s.restaurant_id
  AND d.dt = s.dt
GROUP BY s.restaurant_id, s.dt, s.section_index, s.section
