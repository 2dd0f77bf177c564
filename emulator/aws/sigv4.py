"""Optional AWS Signature Version 4 checks of incoming requests, against one configured key pair.

Off by default (any signature is accepted, as kinesalite and kinesis-mock do). When on, as AWS checks them: the
request's ``X-Amz-Date`` within 5 minutes of the server's clock (a captured request cannot be replayed later), the
credential scope's date equal to it, and the scope naming the service called (``kinesis`` or ``firehose``); then the
request is rebuilt from the headers its signature covers and signed again with botocore's own signer, and the two
signatures must match.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import time
from collections.abc import Callable, Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.aws.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


#: How far a request's date may be from the server's clock, either way (AWS: 5 minutes).
MAX_SKEW = dt.timedelta(minutes=5)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class SignatureVerifier:
    """Checks ``Authorization: AWS4-HMAC-SHA256 ...`` headers against one access key; ``clock_s`` is the server's
    time in epoch seconds."""

    def __init__(self, access_key_id: str, secret_access_key: str, clock_s: Callable[[], float] = time.time) -> None:
        self._access_key_id = access_key_id
        self._secret = secret_access_key
        self._clock_s = clock_s

    def verify(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, service: str) -> None:
        """Raise the AWS error of the first check ``headers`` fail for a call of ``service``."""
        authorization = headers.get("authorization")
        if authorization is None:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        match = _AUTH_RE.fullmatch(authorization.strip())
        if match is None or "x-amz-date" not in headers:
            raise IncompleteSignatureException(
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters and an "
                "'X-Amz-Date' header."
            )
        if match["key"] != self._access_key_id:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        self._check_date_and_scope(headers["x-amz-date"], match["date"], match["service"], service)
        signed = match["headers"].split(";")
        missing = [name for name in signed if name not in headers]
        if missing:
            raise IncompleteSignatureException(f"Signed headers {missing} are missing from the request.")
        url = f"http://{headers.get('host', 'localhost')}{path}" + (f"?{query}" if query else "")
        request = AWSRequest(method=method, url=url, data=body, headers={name: headers[name] for name in signed})
        request.context["timestamp"] = headers["x-amz-date"]
        auth = SigV4Auth(Credentials(self._access_key_id, self._secret), match["service"], match["region"])
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, match["signature"]):
            raise InvalidSignatureException(
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method."
            )

    def _check_date_and_scope(self, amz_date: str, scope_date: str, scope_service: str, service: str) -> None:
        try:
            signed_at = dt.datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=dt.UTC)
        except ValueError:
            raise IncompleteSignatureException(
                f"X-Amz-Date {amz_date[:40]!r} is not a date in the ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z')."
            ) from None
        if scope_date != amz_date[:8]:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        if scope_service != service:
            raise InvalidSignatureException(f"Credential should be scoped to correct service: '{service}'. ")
        now = dt.datetime.fromtimestamp(self._clock_s(), dt.UTC)
        if signed_at < now - MAX_SKEW:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than {(now - MAX_SKEW).strftime(_AMZ_DATE)} "
                f"({now.strftime(_AMZ_DATE)} - 5 min.)"
            )
        if signed_at > now + MAX_SKEW:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than {(now + MAX_SKEW).strftime(_AMZ_DATE)} "
                f"({now.strftime(_AMZ_DATE)} + 5 min.)"
            )
