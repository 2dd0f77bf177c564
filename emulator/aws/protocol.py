"""The two wire formats of the AWS JSON services: AWS JSON 1.1 (boto3, aws-cli) and CBOR 1.1 (the Java SDK v2 default).

They differ only in how they carry blobs and timestamps:

=========== ============================== ==========================================
            JSON 1.1                       CBOR 1.1
=========== ============================== ==========================================
blob        base64 text                    a CBOR byte string
timestamp   epoch seconds (float)          epoch milliseconds (integer, CBOR tag 1)
=========== ============================== ==========================================

Handlers return plain dicts whose blobs are ``bytes`` and whose timestamps are :class:`AwsTimestamp`; the codec of
the request renders them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import math
from typing import Any

import cbor2
import orjson

from emulator.aws.errors import SerializationException

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"
#: Timestamps are epoch milliseconds in a signed 64-bit integer (Java's ``long``, Kafka's timestamps): anything
#: beyond is not a point in time any service can hold.
MAX_TIMESTAMP_MS = 2**63 - 1


def _checked_ms(value: float, member: str) -> int:
    """Epoch milliseconds from a number that may be NaN, infinite or beyond a 64-bit range (all refused)."""
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_TIMESTAMP_MS:
        raise SerializationException(f"Member {member!r}: {_shown(value)} is not a valid timestamp.")
    return round(value)


def _shown(value: object) -> str:
    """A value quoted in an error message, cut short: a message never echoes a whole request."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class AwsTimestamp:
    """A point in time on its way out, in epoch milliseconds; each codec renders it its own way."""

    __slots__ = ("ms",)

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __repr__(self) -> str:
        return f"AwsTimestamp({self.ms})"


class _CborMillis:
    """A CBOR tag-1 value as read, before the shape says which member it is."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


class JsonCodec:
    """``application/x-amz-json-1.1``."""

    content_type = JSON_CONTENT_TYPE

    def decode(self, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise SerializationException(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise SerializationException("The request body must be a JSON object.")
        return value

    def encode(self, value: dict[str, Any]) -> bytes:
        return orjson.dumps(value, default=_json_default)

    def blob(self, value: object, member: str) -> bytes:
        if type(value) is not str:
            raise SerializationException(f"Member {member!r} must be a base64-encoded string.")
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            raise SerializationException(
                f"Member {member!r} is not valid base64: it can not be converted to a Blob."
            ) from None

    @staticmethod
    def fast_blob(value: Any) -> bytes:
        """Decode a blob or raise TypeError/ValueError, without wording the error (PutRecords' fast path)."""
        if type(value) is not str:
            raise TypeError("not a string")
        return binascii.a2b_base64(value, strict_mode=True)

    def timestamp_ms(self, value: object, member: str) -> int:
        if isinstance(value, bool):
            raise SerializationException(f"Member {member!r}: a boolean can not be converted to a timestamp.")
        if isinstance(value, int | float):
            return _checked_ms(value * 1000, member)
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=dt.UTC)
                seconds = parsed.timestamp()
            except (ValueError, OverflowError):  # OverflowError: a date beyond year 1..9999 once made UTC
                raise SerializationException(f"Member {member!r}: {_shown(value)} is not a timestamp.") from None
            return _checked_ms(seconds * 1000, member)
        raise SerializationException(f"Member {member!r} must be a timestamp (epoch seconds).")


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, AwsTimestamp):
        return value.ms / 1000
    raise TypeError(f"cannot encode {type(value).__name__}")


class CborCodec:
    """``application/x-amz-cbor-1.1``: timestamps are epoch milliseconds, tagged 1 as the Java SDK v2 writes them."""

    content_type = CBOR_CONTENT_TYPE

    def decode(self, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        stream = io.BytesIO(body)
        decoder = cbor2.CBORDecoder(stream, semantic_decoders={1: lambda raw, _immutable: _CborMillis(raw)})
        try:
            value = decoder.decode()
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise SerializationException(f"The request body is not valid CBOR: {exc}") from None
        if stream.tell() != len(body):
            raise SerializationException(
                f"The request body is not valid CBOR: {len(body) - stream.tell()} byte(s) follow the end of its map."
            )
        if not isinstance(value, dict):
            raise SerializationException("The request body must be a CBOR map.")
        return value

    def encode(self, value: dict[str, Any]) -> bytes:
        return cbor2.dumps(value, default=_cbor_default)

    def blob(self, value: object, member: str) -> bytes:
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, str):  # some clients send base64 text in CBOR too
            return JsonCodec().blob(value, member)
        raise SerializationException(f"Member {member!r} must be a byte string.")

    @staticmethod
    def fast_blob(value: Any) -> bytes:
        """Return a byte-string blob or raise TypeError, without wording the error (PutRecords' fast path)."""
        if type(value) is not bytes:
            raise TypeError("not a byte string")
        return value

    def timestamp_ms(self, value: object, member: str) -> int:
        raw = value.value if isinstance(value, _CborMillis) else value
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise SerializationException(f"Member {member!r} must be a timestamp in epoch milliseconds.")
        return _checked_ms(raw, member)


def _cbor_default(encoder: cbor2.CBOREncoder, value: object) -> None:
    if isinstance(value, AwsTimestamp):
        encoder.encode(cbor2.CBORTag(1, value.ms))
        return
    raise TypeError(f"cannot encode {type(value).__name__}")


Codec = JsonCodec | CborCodec
JSON = JsonCodec()
CBOR = CborCodec()


def codec_for(content_type: str) -> Codec | None:
    """The codec of a request's Content-Type (parameters ignored), or None when it is neither format."""
    base = content_type.split(";", 1)[0].strip().lower()
    if base == CBOR_CONTENT_TYPE:
        return CBOR
    if base in (JSON_CONTENT_TYPE, "application/json", "application/x-amz-json-1.0"):
        return JSON
    return None
