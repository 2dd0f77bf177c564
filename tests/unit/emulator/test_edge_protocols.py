"""The h2c upgrade rule of the edge port (pure): which HTTP/1.1 request heads are continued in HTTP/2."""

from __future__ import annotations

import base64

from emulator.edge.protocols import MAX_UPGRADE_BODY_BYTES, h2c_upgrade

SETTINGS = b"AAMAAABkAARAAAAAAAIAAAAA"


def head(*lines: bytes, request_line: bytes = b"POST / HTTP/1.1") -> bytes:
    return b"\r\n".join([request_line, *lines]) + b"\r\n\r\n"


def test_a_curl_style_upgrade_is_taken_with_its_request_replayed() -> None:
    request = head(
        b"Host: 127.0.0.1:4566",
        b"Connection: Upgrade, HTTP2-Settings",
        b"Upgrade: h2c",
        b"HTTP2-Settings: " + SETTINGS,
        b"X-Amz-Target: Kinesis_20131202.ListStreams",
        b"Content-Length: 2",
    )
    upgrade = h2c_upgrade(request)
    assert upgrade is not None
    assert (upgrade.method, upgrade.target, upgrade.settings) == (b"POST", b"/", SETTINGS)
    assert (upgrade.content_length, upgrade.head_length) == (2, len(request))
    # Hop-by-hop headers and the HTTP/1.1 framing are not replayed into HTTP/2 (RFC 9113 section 8.2.2).
    assert upgrade.headers == [(b"host", b"127.0.0.1:4566"), (b"x-amz-target", b"Kinesis_20131202.ListStreams")]


def test_tokens_are_compared_without_case_and_in_lists() -> None:
    request = head(b"connection: keep-alive, upgrade, http2-settings", b"upgrade: foo, H2C", b"http2-settings: ")
    assert h2c_upgrade(request) is not None


def test_requests_asking_no_upgrade_or_another_one_stay_http1() -> None:
    assert h2c_upgrade(head(b"Host: x", b"Content-Length: 0")) is None
    assert h2c_upgrade(head(b"Connection: Upgrade", b"Upgrade: websocket")) is None


def test_an_upgrade_missing_a_part_rfc_7540_requires_is_declined() -> None:
    # The settings header must be there once and be named in Connection; Connection must name Upgrade.
    assert h2c_upgrade(head(b"Connection: Upgrade", b"Upgrade: h2c")) is None
    assert h2c_upgrade(head(b"Connection: Upgrade", b"Upgrade: h2c", b"HTTP2-Settings: " + SETTINGS)) is None
    assert h2c_upgrade(head(b"Connection: HTTP2-Settings", b"Upgrade: h2c", b"HTTP2-Settings: " + SETTINGS)) is None
    both = head(
        b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c", b"HTTP2-Settings: AAAA", b"HTTP2-Settings: AAAA"
    )
    assert h2c_upgrade(both) is None


def test_bodies_it_cannot_hold_whole_or_malformed_heads_are_left_to_http1() -> None:
    upgrade = (b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c", b"HTTP2-Settings: " + SETTINGS)
    assert h2c_upgrade(head(*upgrade, b"Transfer-Encoding: chunked")) is None
    assert h2c_upgrade(head(*upgrade, b"Content-Length: %d" % (MAX_UPGRADE_BODY_BYTES + 1))) is None
    assert h2c_upgrade(head(*upgrade, b"Content-Length: -1")) is None
    assert h2c_upgrade(head(*upgrade, b"Content-Length: ten")) is None
    assert h2c_upgrade(head(*upgrade, b"Content-Length: 1", b"Content-Length: 2")) is None
    assert h2c_upgrade(head(*upgrade[:2], b"HTTP2-Settings: AAA*AAAA")) is None
    assert h2c_upgrade(head(*upgrade[:2], b"HTTP2-Settings: AAA+AAAA")) is None  # base64url has no '+'
    assert h2c_upgrade(head(*upgrade[:2], b"HTTP2-Settings: AAA-AAAA")) is not None  # one setting, 6 bytes
    # Not whole 6-byte settings: declined before the 101, which could not be taken back.
    assert h2c_upgrade(head(*upgrade[:2], b"HTTP2-Settings: AAAA")) is None
    assert h2c_upgrade(head(*upgrade[:2], b"HTTP2-Settings: " + base64.urlsafe_b64encode(b"\0" * 8))) is None
    assert h2c_upgrade(head(*upgrade, b"no colon here")) is None
    assert h2c_upgrade(head(*upgrade, request_line=b"POST / HTTP/1.0")) is None
    assert h2c_upgrade(head(*upgrade, request_line=b"POST /")) is None
