"""VAPID (RFC 8292): the JWT names the push service's origin, expires within 24 h, names our contact, and verifies."""

from __future__ import annotations

import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.push import VapidKeys
from tests.integration.push.browser import parse_vapid_header, verified_claims
from workers.push import origin, vapid_authorization

SUBJECT = "mailto:ops@bankroll.invalid"


@pytest.fixture
def vapid() -> VapidKeys:
    return VapidKeys(ec.generate_private_key(ec.SECP256R1()))


def test_the_header_carries_a_token_and_our_public_key(vapid: VapidKeys) -> None:
    _, key = parse_vapid_header(vapid_authorization(vapid, "https://push.example/send/abc", SUBJECT))
    assert key == vapid.application_server_key


def test_the_token_verifies_with_the_public_key(vapid: VapidKeys) -> None:
    token, key = parse_vapid_header(vapid_authorization(vapid, "https://push.example/send/abc", SUBJECT))
    # verified_claims raises InvalidSignature on a bad signature; the claims it returns are the ones signed.
    assert verified_claims(token, key)["aud"] == "https://push.example"


def test_a_token_does_not_verify_with_another_key(vapid: VapidKeys) -> None:
    token, _ = parse_vapid_header(vapid_authorization(vapid, "https://push.example/send/abc", SUBJECT))
    other = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(InvalidSignature):
        verified_claims(token, other.application_server_key)


def test_the_claims_name_the_endpoint_origin_an_expiry_within_a_day_and_the_subject(vapid: VapidKeys) -> None:
    now = time.time()
    token, key = parse_vapid_header(vapid_authorization(vapid, "https://push.example/send/abc?x=1", SUBJECT, now=now))
    claims = verified_claims(token, key)
    assert claims["aud"] == "https://push.example"
    assert now < claims["exp"] <= now + 24 * 3600
    assert claims["sub"] == SUBJECT


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("https://push.example/a", "https://push.example"),
        ("https://PUSH.example:443/a", "https://push.example"),
        ("https://push.example:8443/a", "https://push.example:8443"),
        ("http://127.0.0.1:5000/a", "http://127.0.0.1:5000"),
        ("http://[::1]:5000/a", "http://[::1]:5000"),
    ],
)
def test_the_audience_is_the_origin_with_a_non_default_port(endpoint: str, expected: str) -> None:
    assert origin(endpoint) == expected


def test_a_lifetime_over_a_day_is_refused(vapid: VapidKeys) -> None:
    with pytest.raises(ValueError, match="at most 24 h"):
        vapid_authorization(vapid, "https://push.example/a", SUBJECT, lifetime_s=24 * 3600 + 1)
