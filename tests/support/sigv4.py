"""Requests signed correctly with botocore's SigV4 signer at any date and for any service: what a client whose
clock is off, or a replay of a captured request, sends."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed_headers(
    url: str,
    target: str,
    body: bytes,
    at: dt.datetime,
    *,
    access_key: str,
    secret_key: str,
    service: str = "kinesis",
    scope_date: str | None = None,
    region: str = "us-east-1",
) -> dict[str, str]:
    """Lower-case headers of a POST of ``body`` to ``url`` for ``target``, signed at ``at`` with a credential scope
    for ``service`` (and ``scope_date``, the date of ``at`` unless given)."""
    amz_date = at.strftime("%Y%m%dT%H%M%SZ")
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": target,
            "X-Amz-Date": amz_date,
            "Host": urlsplit(url).netloc,
        },
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(access_key, secret_key), service, region)
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    scope = f"{access_key}/{scope_date or amz_date[:8]}/{region}/{service}/aws4_request"
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}, "
        f"Signature={signature}"
    )
    return headers
