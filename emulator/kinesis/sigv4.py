"""Optional AWS Signature Version 4 checks of incoming requests, against one configured key pair.

Off by default (any signature is accepted, as kinesalite and kinesis-mock do). When on, the request is rebuilt
from the headers its signature covers and signed again with botocore's own signer; the two signatures must match.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.kinesis.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class SignatureVerifier:
    """Checks ``Authorization: AWS4-HMAC-SHA256 ...`` headers against one access key."""

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self._access_key_id = access_key_id
        self._secret = secret_access_key

    def verify(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> None:
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
