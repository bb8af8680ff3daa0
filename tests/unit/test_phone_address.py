"""Which addresses a phone can run the app from, and what `bankroll serve` tells its owner (docs/https.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.root_certificate import RootCertificate
from bankroll.cli import phone_address
from bankroll.phone import Reach, reach, refusal, why_no_phone
from shared.settings import load_settings


@pytest.mark.parametrize(
    ("url", "who"),
    [
        ("https://bankroll.home.arpa", Reach.PHONE),
        ("https://192.168.1.20:8443", Reach.PHONE),
        ("https://poker-box.tail1234.ts.net", Reach.PHONE),
        ("http://127.0.0.1:8000", Reach.THIS_COMPUTER),
        ("http://127.8.9.10:8000", Reach.THIS_COMPUTER),
        ("http://localhost:8000", Reach.THIS_COMPUTER),
        ("http://app.localhost", Reach.THIS_COMPUTER),
        ("http://[::1]:8000", Reach.THIS_COMPUTER),
        ("http://192.168.1.20:8000", Reach.NOBODY),
        ("http://0.0.0.0:8000", Reach.NOBODY),
        ("http://bankroll.home.arpa", Reach.NOBODY),
        ("http://[fe80::1]:8000", Reach.NOBODY),
    ],
)
def test_only_https_reaches_a_phone_and_plain_http_only_this_computers_loopback(url: str, who: Reach) -> None:
    assert reach(url) is who


def test_a_pairing_link_is_refused_for_plain_http_on_a_network_address_saying_why() -> None:
    assert refusal("https://bankroll.home.arpa") is None
    assert refusal("http://127.0.0.1:8000") is None, "a browser on this computer can still pair"
    assert refusal("http://192.168.1.20:8000") == (
        "no pairing link printed: http://192.168.1.20:8000 is plain http on a network address, where browsers run "
        "no service worker: a phone needs an https:// address for offline capture, push and install; put Caddy in "
        "front and set PUBLIC_URL to its https:// address (docs/https.md)"
    )


def test_serve_on_loopback_says_a_phone_needs_https() -> None:
    settings = load_settings({"BANKROLL_DATA_DIR": "/tmp/x", "PORT": "8123"})
    assert phone_address(settings, None) == f"A phone cannot open this server: {why_no_phone('http://127.0.0.1:8123')}"
    assert "works in a browser on this computer only" in phone_address(settings, None)


def test_serve_behind_https_names_the_address_a_phone_opens_and_the_root_it_must_trust() -> None:
    settings = load_settings({"BANKROLL_DATA_DIR": "/tmp/x", "PUBLIC_URL": "https://bankroll.home.arpa"})
    opens = "A phone opens https://bankroll.home.arpa (this server listens on http://127.0.0.1:8000)"
    assert phone_address(settings, None).startswith(opens)
    root = RootCertificate(der=b"", subject="Caddy Local Authority", sha256="AB:CD", not_after=datetime.now(UTC))
    assert phone_address(settings, root).splitlines()[1] == (
        "First the phone trusts this server's root certificate Caddy Local Authority (SHA-256 AB:CD): "
        "https://bankroll.home.arpa/pair offers it with the steps for Android and iOS"
    )
