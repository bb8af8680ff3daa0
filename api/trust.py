"""The local root certificate for phones (no auth: a phone fetches it before it is paired): what it is, the
certificate itself, and a QR code of its address. All three answer 404 unless ``BANKROLL_CA_CERT`` is set.

Behind Caddy's ``tls internal`` the server's certificate is signed by Caddy's own root, which a phone trusts
only once it is installed; until then it runs no service worker there (no offline capture, no push, no install).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Final

import msgspec
import qrcode
import qrcode.image.svg
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from adapters.root_certificate import SETTING, RootCertificate

DOWNLOAD: Final = "/trust/root.crt"
QR: Final = "/trust/root-qr.svg"
# The file name phones keep; .crt with this type opens Android's certificate installer and iOS's profile download.
FILE_NAME: Final = "bankroll-root.crt"
CA_CERT_TYPE: Final = "application/x-x509-ca-cert"
SVG_TYPE: Final = "image/svg+xml"


class Trust(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    sha256: str  # the fingerprint the phone shows for the installed certificate
    not_after: datetime
    download: str  # the certificate's address (DER), relative to this server
    url: str  # the same, absolute, under PUBLIC_URL: what the QR code holds
    qr: str  # an SVG QR code of ``url``, relative to this server


def _root(state: State) -> RootCertificate:
    root: RootCertificate | None = state.get("root_certificate")
    if root is None:
        raise NotFoundException(detail=f"this server offers no local root certificate ({SETTING} is unset)")
    return root


def _download_url(state: State) -> str:
    return f"{state.settings.base_url}{DOWNLOAD}"


class TrustController(Controller):
    path = "/"
    tags = ["trust"]

    @get("/api/v1/trust", summary="The local root certificate phones must trust: subject, SHA-256, addresses")
    async def trust(self, state: State) -> Trust:
        root = _root(state)
        return Trust(
            subject=root.subject,
            sha256=root.sha256,
            not_after=root.not_after,
            download=DOWNLOAD,
            url=_download_url(state),
            qr=QR,
        )

    @get(DOWNLOAD, summary="The local root certificate (DER), to install on a phone")
    async def certificate(self, state: State) -> Response[bytes]:
        headers = {"Content-Disposition": f'attachment; filename="{FILE_NAME}"', "Cache-Control": "no-cache"}
        return Response(_root(state).der, media_type=CA_CERT_TYPE, headers=headers)

    @get(QR, summary="A QR code (SVG) of the certificate's address under PUBLIC_URL")
    async def qr_code(self, state: State) -> Response[bytes]:
        _root(state)
        return Response(qr_svg(_download_url(state)), media_type=SVG_TYPE, headers={"Cache-Control": "no-cache"})


def qr_svg(text: str) -> bytes:
    """``text`` as a QR code in SVG, black on white with a quiet zone, so a phone's camera reads it on any theme."""
    image: Any = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
