"""Subscription validation: a subscription is accepted only if a push message can be encrypted for it and sent."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.errors import InvalidInput
from shared.push import PushSubscription, SubscriptionKeys, check_subscription
from tests.integration.push.browser import FakeBrowser, b64url, unb64url

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def subscription(endpoint: str = ENDPOINT, p256dh: str | None = None, auth: str | None = None) -> PushSubscription:
    browser = FakeBrowser()
    keys = SubscriptionKeys(p256dh=p256dh or browser.p256dh, auth=auth or b64url(browser.auth_secret))
    return PushSubscription(endpoint=endpoint, keys=keys)


def refused(sub: PushSubscription, *, allow_insecure_endpoints: bool = False) -> str:
    with pytest.raises(InvalidInput) as caught:
        check_subscription(sub, allow_insecure_endpoints=allow_insecure_endpoints)
    return str(caught.value)


def test_a_browser_subscription_is_accepted() -> None:
    sub = subscription()
    assert check_subscription(sub) is sub


def test_padded_base64url_keys_are_accepted_too() -> None:
    sub = subscription()
    padded = SubscriptionKeys(p256dh=sub.keys.p256dh + "=" * (-len(sub.keys.p256dh) % 4), auth=sub.keys.auth + "==")
    accepted = PushSubscription(ENDPOINT, padded)
    assert check_subscription(accepted) is accepted


@pytest.mark.parametrize(
    "endpoint",
    ["http://push.example/abc", "ftp://push.example/abc", "push.example/abc", "https:///abc", ""],
)
def test_an_endpoint_that_is_not_https_is_refused(endpoint: str) -> None:
    assert "must be an https:// URL" in refused(subscription(endpoint))


def test_a_local_http_endpoint_is_refused_without_the_test_flag() -> None:
    assert "must be an https:// URL" in refused(subscription("http://127.0.0.1:8080/push"))


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/push", "http://localhost:9/p", "http://[::1]:9/p"])
def test_a_local_http_endpoint_is_accepted_with_the_test_flag(endpoint: str) -> None:
    sub = subscription(endpoint)
    assert check_subscription(sub, allow_insecure_endpoints=True) is sub


def test_the_test_flag_does_not_open_http_to_other_hosts() -> None:
    message = refused(subscription("http://push.example/abc"), allow_insecure_endpoints=True)
    assert "must be an https:// URL" in message


@pytest.mark.parametrize("endpoint", ["https://10.0.0.5/push", "https://127.0.0.1/push", "https://[fe80::1]/p"])
def test_an_endpoint_on_a_private_address_is_refused(endpoint: str) -> None:
    assert "private network" in refused(subscription(endpoint))


def test_an_endpoint_with_credentials_is_refused() -> None:
    assert "credentials" in refused(subscription("https://user:pw@push.example/abc"))


def test_an_overlong_endpoint_is_refused() -> None:
    assert "at most 2048" in refused(subscription("https://push.example/" + "a" * 2100))


def test_a_p256dh_that_is_not_base64url_is_refused() -> None:
    assert "keys.p256dh" in refused(subscription(p256dh="not base64 at all!"))


def test_a_compressed_p256dh_point_is_refused() -> None:
    compressed = unb64url(FakeBrowser().p256dh)
    x, y = compressed[1:33], compressed[33:]
    short = b64url(bytes([2 + (y[-1] & 1)]) + x)
    message = refused(subscription(p256dh=short))
    assert "keys.p256dh decodes to 33 bytes" in message and "65-byte uncompressed P-256 point" in message


def test_a_p256dh_point_off_the_curve_is_refused() -> None:
    point = bytearray(unb64url(FakeBrowser().p256dh))
    point[-1] ^= 1  # same x, wrong y: 65 bytes, 0x04 prefix, not on the curve
    with pytest.raises(ValueError):
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(point))
    assert "not a point on the P-256 curve" in refused(subscription(p256dh=b64url(bytes(point))))


def test_an_auth_secret_of_the_wrong_length_is_refused() -> None:
    assert "keys.auth decodes to 12 bytes" in refused(subscription(auth=b64url(b"x" * 12)))


def test_an_auth_secret_that_is_not_base64url_is_refused() -> None:
    assert "keys.auth" in refused(subscription(auth="***"))


@pytest.mark.parametrize("seed", range(20))
def test_the_pure_p256_check_agrees_with_cryptography(seed: int) -> None:
    point = bytearray(unb64url(FakeBrowser().p256dh))
    point[1 + seed % 64] ^= 1 << (seed % 8)  # one flipped bit in x or y
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(point))
        on_curve = True
    except ValueError:
        on_curve = False
    candidate = subscription(p256dh=b64url(bytes(point)))
    if on_curve:
        assert check_subscription(candidate) is candidate
    else:
        assert "not a point on the P-256 curve" in refused(candidate)


def test_a_coordinate_outside_the_field_is_refused() -> None:
    too_big = b"\x04" + b"\xff" * 64  # x = y = 2²⁵⁶ - 1 > p
    assert "not a point on the P-256 curve" in refused(subscription(p256dh=b64url(too_big)))
