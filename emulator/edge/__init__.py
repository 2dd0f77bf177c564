"""The edge endpoint (port 4566 by default): one HTTP server for every AWS API kemu speaks.

Requests are routed by what they are: ``X-Amz-Target`` calls go to the Kinesis and Firehose APIs, S3 requests are
proxied to the object store (MinIO), and ``/_kemu/health`` (also ``/_localstack/health``, the path CI scripts and
compose health checks already use) lists the services and their state.
"""
