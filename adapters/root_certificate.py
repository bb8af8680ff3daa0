"""The local root certificate a `tls internal` proxy (Caddy) signs the server's certificate with, read from its file.

A phone must trust this root before it opens the app over https on a home network; the pairing page offers it
(``BANKROLL_CA_CERT``). Errors: ``BadSetting`` naming the variable, the path and what is wrong with the file.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from shared.errors import BadSetting

SETTING = "BANKROLL_CA_CERT"
# Where Caddy keeps the root of its `tls internal` authority, under its data directory ($XDG_DATA_HOME/caddy).
CADDY_ROOT = Path("caddy/pki/authorities/local/root.crt")


class RootCertificate(msgspec.Struct, frozen=True, kw_only=True):
    """A CA certificate as a phone installs it (DER) and as a person checks it (subject, SHA-256 fingerprint)."""

    der: bytes
    subject: str  # the common name, as the phone lists the certificate
    sha256: str  # "AB:CD:…", as Android and iOS show a certificate's fingerprint
    not_after: datetime


def load_root_certificate(path: Path) -> RootCertificate:
    """Read a PEM (or DER) CA certificate.

    Raises:
        BadSetting: the file cannot be read, holds no certificate, or the certificate is not a CA's.
    """
    where = f"{SETTING}={path}"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        hint = f" (Caddy writes its local root to $XDG_DATA_HOME/{CADDY_ROOT} when it first starts)"
        raise BadSetting(f"{where}: cannot read it: {exc.strerror or exc}{hint}") from None
    try:
        cert = x509.load_pem_x509_certificate(raw) if b"-----BEGIN" in raw else x509.load_der_x509_certificate(raw)
    except ValueError as exc:
        raise BadSetting(f"{where}: not an X.509 certificate in PEM or DER ({exc})") from None
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise BadSetting(
            f"{where}: {cert.subject.rfc4514_string()} is not a CA certificate; give the proxy's root "
            f"(for Caddy: {CADDY_ROOT.name}), not the site's own certificate"
        )
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    der = cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    return RootCertificate(
        der=der,
        subject=str(names[0].value) if names else cert.subject.rfc4514_string(),
        sha256=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        not_after=cert.not_valid_after_utc,
    )
