-- Streaming ETL: clickstream cleaned and enriched into clickstream-clean; rejects go to the error topic.
-- source: clickstream
-- output: topic
-- output_topic: clickstream-clean
SELECT
    event_id,
    event_type,
    event_time,
    user_id AS key,
    user_id,
    COALESCE(session_id, user_id || '-' || strftime(event_time, '%Y%m%d%H')) AS session_id,
    lower(regexp_extract(url, '^([a-z]+)://', 1)) AS url_scheme,
    lower(regexp_extract(url, '^[a-z]+://([^/:?#]+)', 1)) AS url_host,
    COALESCE(NULLIF(regexp_extract(url, '^[a-z]+://[^/]+(/[^?#]*)', 1), ''), '/') AS url_path,
    NULLIF(regexp_extract(url, '\?([^#]*)', 1), '') AS url_query,
    CASE
        WHEN device ILIKE '%ipad%' OR device ILIKE '%tablet%' THEN 'tablet'
        WHEN device ILIKE '%mobile%' OR device ILIKE '%iphone%' OR device ILIKE '%android%' THEN 'mobile'
        WHEN device ILIKE '%bot%' OR device ILIKE '%crawler%' OR device ILIKE '%spider%' THEN 'bot'
        WHEN device IS NULL THEN 'unknown'
        ELSE 'desktop'
    END AS device_class,
    upper(country) AS country,
    referrer,
    product_id,
    price,
    status_code,
    CASE
        WHEN event_id IS NULL THEN 'missing event_id'
        WHEN user_id IS NULL OR user_id = '' THEN 'missing user_id'
        WHEN event_type NOT IN ('page_view', 'click', 'add_to_cart', 'purchase', 'error') THEN
            'unknown event_type ' || event_type
        WHEN url IS NULL OR NOT regexp_matches(url, '^https?://[^/]+') THEN 'malformed url'
        WHEN country IS NOT NULL AND NOT regexp_matches(country, '^[A-Za-z]{2}$') THEN 'malformed country'
        WHEN event_type = 'purchase' AND (price IS NULL OR price < 0) THEN 'purchase without a valid price'
    END AS error
FROM events
