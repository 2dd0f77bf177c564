"""AWS's event stream framing (``application/vnd.amazon.eventstream``): how SubscribeToShard pushes its events.

A message is a prelude (total length, headers length, both big-endian 32-bit, and the prelude's CRC32), headers
(name length in one byte, name, a type byte, then the value: only strings, type 7 with a 16-bit length, are
written here), the payload, and the whole message's CRC32. botocore's ``botocore.eventstream`` reads it (the tests
decode with it as the oracle); it has no writer, hence these few lines.

An :class:`EventStream` is what a service's handler returns instead of a response dict when the operation answers
with a stream of events; the router sends it as the response body, one message at a time.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

#: The Content-Type of an event stream response.
CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_MAX_HEADER_VALUE = 0xFFFF


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event stream message with string ``headers`` and ``payload``."""
    encoded = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        if len(raw_name) > 0xFF or len(raw_value) > _MAX_HEADER_VALUE:
            raise ValueError(f"event stream header {name!r} is too long")
        encoded += struct.pack(">B", len(raw_name)) + raw_name
        encoded += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    prelude = _PRELUDE.pack(_PRELUDE.size + 4 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + bytes(encoded) + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(event_type: str, payload: bytes, content_type: str) -> bytes:
    """An ``event`` message of type ``event_type`` (``initial-response``, ``SubscribeToShardEvent``)."""
    return encode_message({":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload)


def exception(error_type: str, payload: bytes, content_type: str) -> bytes:
    """An ``exception`` message: a modelled error that ends the stream (``ResourceInUseException``, ...)."""
    return encode_message(
        {":exception-type": error_type, ":content-type": content_type, ":message-type": "exception"}, payload
    )


#: Encodes one event's members in the request's wire format (JSON 1.1 or CBOR 1.1).
Encode = Callable[[dict[str, Any]], bytes]


@dataclass
class EventStream:
    """A streamed response: ``messages(encode, content_type)`` yields whole messages until the stream ends.

    ``close()`` is called once the response ends, however it ends (the client went away, the server stops)."""

    messages: Callable[[Encode, str], AsyncIterator[bytes]]
    close: Callable[[], None]
