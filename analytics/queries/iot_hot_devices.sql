-- Devices whose average temperature over a 30-second window crosses 45 °C (records without a device are left out).
-- source: iot-telemetry
-- emit: final
-- output: alerts
-- lateness: 5s
SELECT
    window_start,
    window_end,
    device_id AS key,
    MIN(site) AS site,
    AVG(temperature) AS avg_temperature,
    MAX(temperature) AS max_temperature,
    COUNT(temperature) AS readings,
    CASE WHEN AVG(temperature) >= 60 THEN 'critical' ELSE 'warning' END AS severity,
    'device ' || device_id || ' averaged ' || CAST(ROUND(AVG(temperature), 1) AS VARCHAR)
        || ' °C over 30 s' AS message
FROM TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '30 seconds')
WHERE event_type = 'reading' AND device_id IS NOT NULL
GROUP BY window_start, window_end, device_id
HAVING AVG(temperature) > 45
