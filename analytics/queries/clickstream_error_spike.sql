-- A clickstream error-rate spike: more than 5% of a minute's events (and at least 20 of them) are errors.
-- source: clickstream
-- emit: final
-- output: alerts
-- lateness: 5s
SELECT
    window_start,
    window_end,
    'clickstream' AS key,
    COUNT(*) FILTER (WHERE event_type = 'error') AS errors,
    COUNT(*) AS events,
    COUNT(*) FILTER (WHERE event_type = 'error') / COUNT(*) AS error_rate,
    'critical' AS severity,
    'error rate ' || CAST(ROUND(100.0 * COUNT(*) FILTER (WHERE event_type = 'error') / COUNT(*), 1) AS VARCHAR)
        || '% in one minute' AS message
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end
HAVING COUNT(*) FILTER (WHERE event_type = 'error') >= 20
   AND COUNT(*) FILTER (WHERE event_type = 'error') > 0.05 * COUNT(*)
