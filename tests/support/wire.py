"""Raw requests to the AWS endpoint, as a client other than boto3 sends them: any body, any content type, any
headers. What the answer means is each test's own business."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

JSON = "application/x-amz-json-1.1"
CBOR = "application/x-amz-cbor-1.1"
KINESIS = "Kinesis_20131202"
FIREHOSE = "Firehose_20150804"

#: An Authorization header of the right shape whose signature is never checked (the servers under these tests do
#: not verify signatures): what an SDK always sends.
UNCHECKED_SIGNATURE = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/kinesis/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "X-Amz-Date": "20261127T080000Z",
}


def post(
    url: str,
    operation: str,
    body: bytes,
    content_type: str = JSON,
    *,
    service: str = KINESIS,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST ``body`` to ``url`` as ``<service>.<operation>`` with ``content_type`` (and ``headers`` on top)."""
    return httpx.post(
        url,
        content=body,
        headers={"Content-Type": content_type, "X-Amz-Target": f"{service}.{operation}", **(headers or {})},
        timeout=30,
    )
