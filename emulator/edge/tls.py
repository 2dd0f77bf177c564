"""The local certificate of the edge's TLS port: a CA of its own and a server certificate for ``localhost`` and the
loopback addresses, generated once with trustme and kept under the run directory, so SDKs can be pointed at the CA
(``AWS_CA_BUNDLE``) once and keep trusting the endpoint across restarts."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

#: Names the server certificate is valid for: what a local client dials.
SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class LocalCertificate:
    """Where the CA, the server's certificate chain and its private key are."""

    ca: Path
    chain: Path
    key: Path

    def server_context(self, alpn: list[str]) -> ssl.SSLContext:
        """A server-side TLS context with this certificate, offering ``alpn``."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.chain, self.key)
        context.set_alpn_protocols(alpn)
        return context


def _write_private(path: Path, data: bytes) -> None:
    """``data`` into ``path``, readable by its owner only from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.chmod(path, 0o600)


def local_certificate(directory: Path) -> LocalCertificate:
    """The certificate in ``directory`` (mode 0700), generated there on first use (files mode 0600)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    cert = LocalCertificate(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    if cert.ca.is_file() and cert.chain.is_file() and cert.key.is_file():
        return cert
    import trustme  # only when a certificate is made

    authority = trustme.CA(organization_name="kemu local CA", organization_unit_name="kemu edge endpoint")
    server = authority.issue_cert(*SERVER_NAMES)
    _write_private(cert.key, server.private_key_pem.bytes())
    _write_private(cert.chain, b"".join(blob.bytes() for blob in server.cert_chain_pems))
    _write_private(cert.ca, authority.cert_pem.bytes())
    return cert
