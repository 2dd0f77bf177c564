"""SigV4 for the S3 requests the edge forwards (pure functions, no I/O).

A client signs with whatever keys it has (dummy ones, as with LocalStack); the object store only accepts its own.
So the edge signs each forwarded request again, with the store's keys and for the store's host, the way the store
itself will rebuild the canonical request from what it receives: the path decoded and encoded again, the query
parsed and sorted, the payload hash taken from ``x-amz-content-sha256`` as the client sent it. The body is never
read for signing, so uploads and downloads stream through (a hashed payload is still checked by the store, against
the hash the client computed).

With signature checks on (``KEMU_KINESIS__VERIFY_SIGNATURES``), the client's own signature is checked first, with
the same canonical rules, against the endpoint's configured key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
#: How far a header-signed request's X-Amz-Date may be from the clock, as S3 allows (RequestTimeTooSkewed).
MAX_SKEW = timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
#: Presigned-URL parameters: the edge checks and strips them, then signs the request in its headers instead.
PRESIGN_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
)
#: Signature version 2 presigned URLs (boto3 still makes these for S3 at a custom endpoint unless told s3v4).
PRESIGN_V2_PARAMS = frozenset({"AWSAccessKeyId", "Signature", "Expires"})
#: Headers that belong to one hop, or to the client's credentials, and are never forwarded.
NOT_FORWARDED = frozenset(
    {
        "authorization",
        "connection",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        # A session token of the client's (dummy) credentials would be read by the store as one of its own.
        "x-amz-security-token",
    }
)

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)

Headers = Sequence[tuple[str, str]]


UNKNOWN_KEY = "The AWS Access Key Id you provided does not exist in our records."


class SignatureMismatch(Exception):
    """The client's signature does not verify; the message says why, in S3's words where S3 has them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Signed:
    """What a forwarded request carries instead of the client's credentials."""

    headers: list[tuple[str, str]]
    query: str


def canonical_uri(raw_path: str) -> str:
    """S3's canonical URI: the path decoded, then every byte but ``A-Za-z0-9-_.~/`` percent-encoded (no
    normalisation of ``.`` or ``//``: S3 keys may contain them)."""
    return quote(unquote(raw_path), safe="/")


def canonical_query(raw_query: str, exclude: Iterable[str] = ()) -> str:
    """Parameters decoded, encoded again with ``%20`` for spaces, sorted by name (values keep their order)."""
    skip = frozenset(exclude)
    pairs = [(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True) if k not in skip]
    encoded = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs]
    return "&".join(f"{k}={v}" for k, v in sorted(encoded, key=lambda kv: kv[0]))


def presign_params(raw_query: str) -> frozenset[str]:
    """The presign parameters ``raw_query`` carries (either signature version), to be checked and stripped."""
    names = {k for k, _ in parse_qsl(raw_query, keep_blank_values=True)}
    found = names & PRESIGN_PARAMS
    if {"AWSAccessKeyId", "Signature"} <= names:
        found |= names & PRESIGN_V2_PARAMS
    return frozenset(found)


def strip_query(raw_query: str, names: Iterable[str]) -> str:
    """``raw_query`` without the parameters called ``names``, the others byte for byte as sent."""
    skip = frozenset(names)
    kept = [part for part in raw_query.split("&") if part and unquote(part.partition("=")[0]) not in skip]
    return "&".join(kept)


def _header_values(headers: Headers, name: str) -> str:
    return ",".join(" ".join(value.split()) for key, value in headers if key == name)


def signature(
    method: str,
    canonical_path: str,
    query: str,
    headers: Headers,
    signed_names: Sequence[str],
    payload_hash: str,
    secret: str,
    amz_date: str,
    region: str,
    service: str = "s3",
) -> str:
    """The SigV4 signature of a request given in canonical parts; ``headers`` have lower-case names."""
    names = sorted(set(signed_names))
    canonical_headers = "".join(f"{name}:{_header_values(headers, name)}\n" for name in names)
    canonical = "\n".join([method, canonical_path, query, canonical_headers, ";".join(names), payload_hash])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_for_store(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    host: str,
    access_key: str,
    secret: str,
    region: str,
    now: datetime,
) -> Signed:
    """The headers and query to send to the store at ``host``: the client's headers minus credentials and hop-by-hop
    ones, signed with the store's key. ``headers`` have lower-case names; presign parameters leave the query."""
    query = strip_query(raw_query, presign_params(raw_query))
    kept = [(k, v) for k, v in headers if k not in NOT_FORWARDED and k != "x-amz-date"]
    if not any(k == "x-amz-content-sha256" for k, _ in kept):
        kept.append(("x-amz-content-sha256", UNSIGNED_PAYLOAD))
    amz_date = now.astimezone(UTC).strftime(AMZ_DATE_FORMAT)
    out = [("host", host), ("x-amz-date", amz_date), *kept]
    names = sorted({k for k, _ in out if k in ("host", "content-type", "content-md5") or k.startswith("x-amz-")})
    payload_hash = next(v for k, v in out if k == "x-amz-content-sha256")
    sig = signature(
        method, canonical_uri(raw_path), canonical_query(query), out, names, payload_hash, secret, amz_date, region
    )
    credential = f"{access_key}/{amz_date[:8]}/{region}/s3/aws4_request"
    authorization = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={';'.join(names)}, Signature={sig}"
    return Signed(headers=[*out, ("authorization", authorization)], query=query)


def verify_client(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    access_key: str,
    secret: str,
    now: datetime,
) -> None:
    """Check the client's SigV4 signature (header or presigned URL) against ``access_key``/``secret``; raise
    :class:`SignatureMismatch` when it is missing, malformed, expired, of another key or wrong."""
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    signature_v2 = {"AWSAccessKeyId", "Signature"} <= params.keys()
    if signature_v2 or _header_values(headers, "authorization").startswith("AWS "):
        raise SignatureMismatch(
            "AccessDenied",
            "Signature version 2 is not accepted while signatures are checked; sign with SigV4 (botocore: "
            "Config(signature_version='s3v4')).",
        )
    if "X-Amz-Signature" in params:
        _verify_presigned(method, raw_path, raw_query, headers, params, access_key, secret, now)
        return
    authorization = _header_values(headers, "authorization")
    if not authorization:
        raise SignatureMismatch("AccessDenied", "Anonymous access is refused: this endpoint checks signatures.")
    match = _AUTHORIZATION.fullmatch(authorization.strip())
    amz_date = _header_values(headers, "x-amz-date")
    if match is None or not amz_date:
        raise SignatureMismatch(
            "AuthorizationHeaderMalformed", "The authorization header is malformed or X-Amz-Date is missing."
        )
    if match["key"] != access_key:
        raise SignatureMismatch("InvalidAccessKeyId", UNKNOWN_KEY)
    try:
        signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureMismatch("AuthorizationHeaderMalformed", "X-Amz-Date is malformed.") from None
    if abs(now - signed_at) > MAX_SKEW or match["date"] != amz_date[:8]:
        raise SignatureMismatch(
            "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
        )
    payload_hash = _header_values(headers, "x-amz-content-sha256") or UNSIGNED_PAYLOAD
    expected = signature(
        method,
        canonical_uri(raw_path),
        canonical_query(raw_query),
        headers,
        match["headers"].split(";"),
        payload_hash,
        secret,
        amz_date,
        match["region"],
        match["service"],
    )
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureMismatch(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and "
            "signing method.",
        )


def _verify_presigned(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    params: dict[str, str],
    access_key: str,
    secret: str,
    now: datetime,
) -> None:
    credential = params.get("X-Amz-Credential", "").split("/")
    amz_date = params.get("X-Amz-Date", "")
    try:
        issued = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
        expires = int(params.get("X-Amz-Expires", "0"))
    except ValueError:
        raise SignatureMismatch(
            "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed."
        ) from None
    if len(credential) != 5:
        raise SignatureMismatch("AuthorizationQueryParametersError", "X-Amz-Credential is malformed.")
    if credential[0] != access_key:
        raise SignatureMismatch("InvalidAccessKeyId", UNKNOWN_KEY)
    if now > issued + timedelta(seconds=expires):
        raise SignatureMismatch("AccessDenied", "Request has expired")
    expected = signature(
        method,
        canonical_uri(raw_path),
        canonical_query(raw_query, exclude=("X-Amz-Signature",)),
        headers,
        params.get("X-Amz-SignedHeaders", "host").split(";"),
        UNSIGNED_PAYLOAD,
        secret,
        amz_date,
        credential[2],
        credential[3],
    )
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        raise SignatureMismatch(
            "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
        )


def presign_expired(raw_query: str, now: datetime) -> bool:
    """Whether a presigned URL's validity is over (checked even when signatures are not: the store no longer sees
    the client's presign parameters, so an expired link must not become a permanent one)."""
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    if "AWSAccessKeyId" in params and "Signature" in params and "Expires" in params:
        try:
            return now.timestamp() > int(params["Expires"])
        except ValueError:
            return True
    if "X-Amz-Date" not in params or "X-Amz-Expires" not in params:
        return False
    try:
        issued = datetime.strptime(params["X-Amz-Date"], AMZ_DATE_FORMAT).replace(tzinfo=UTC)
        return now > issued + timedelta(seconds=int(params["X-Amz-Expires"]))
    except ValueError:
        return True
