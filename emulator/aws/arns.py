"""ARNs of the resources the services on the endpoint name each other by: one spelling for every service, since a
Firehose delivery stream names its Kinesis source by the ARN Kinesis gives it."""

from __future__ import annotations

import re

from emulator.names import MAX_STREAM_NAME, NAME_CHARACTERS

#: A Kinesis stream's ARN; group 1 is the stream name.
STREAM_ARN_RE = re.compile(
    rf"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{{12}}:stream/([{NAME_CHARACTERS}]{{1,{MAX_STREAM_NAME}}})"
)


def stream_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:kinesis:{region}:{account_id}:stream/{name}"


def delivery_stream_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:firehose:{region}:{account_id}:deliverystream/{name}"
