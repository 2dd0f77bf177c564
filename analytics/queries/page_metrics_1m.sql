-- Continuous metrics: page views and purchases per page per minute.
-- source: clickstream
-- emit: final
-- output: results
-- lateness: 5s
SELECT
    window_start,
    window_end,
    regexp_extract(url, '^[a-z]+://[^/]+(/[^?#]*)?', 1) AS page,
    COUNT(*) FILTER (WHERE event_type = 'page_view') AS page_views,
    COUNT(*) FILTER (WHERE event_type = 'purchase') AS purchases,
    SUM(price) FILTER (WHERE event_type = 'purchase') AS revenue
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
GROUP BY window_start, window_end, regexp_extract(url, '^[a-z]+://[^/]+(/[^?#]*)?', 1)
ORDER BY page_views DESC, page
