-- Devices that went silent: heard from in a 1-minute window, then nothing for its last 30 seconds or more.
-- (A window-based detector: a device silent for a whole window leaves no row to report; see docs/analytics.md.)
-- source: iot-telemetry
-- emit: final
-- output: alerts
-- lateness: 5s
SELECT
    window_start,
    window_end,
    device_id AS key,
    MAX(event_time) AS last_seen,
    COUNT(*) AS messages,
    'warning' AS severity,
    'device ' || device_id || ' silent since ' || strftime(MAX(event_time), '%Y-%m-%dT%H:%M:%S') AS message
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '1 minute')
WHERE device_id IS NOT NULL
GROUP BY window_start, window_end, device_id
HAVING MAX(event_time) < window_end - INTERVAL '30 seconds'
