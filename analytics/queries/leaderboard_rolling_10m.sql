-- A rolling 10-minute board of the top 10 players, hopping every 10 seconds.
-- source: game-events
-- emit: changes
-- emit_interval: 1s
-- output: results
-- lateness: 10s
SELECT
    window_start,
    window_end,
    CAST(ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY SUM(points) DESC, player_id) AS INTEGER) AS rank,
    player_id AS key,
    SUM(points) AS score
FROM HOP(events, DESCRIPTOR(event_time), INTERVAL '10 seconds', INTERVAL '10 minutes')
WHERE event_type = 'score'
GROUP BY window_start, window_end, player_id
QUALIFY rank <= 10
ORDER BY window_start, rank
