"""A phone on a home network: Caddy (`tls internal`, ops/caddy/home.Caddyfile) in front of a real `bankroll serve`,
and headless Chromium that trusts Caddy's local root and nothing else added (no ignoring of certificate errors)
opening the app on a non-loopback https name, as docs/https.md tells a newcomer to do.

The name ``bankroll.home.arpa`` reaches the proxy through Chromium's host-resolver rules; the browser's
certificate store is an NSS database under a HOME of the test's own.
"""

from __future__ import annotations

import hashlib
import re
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import eventually, need
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, cut_signal, missing_browser, phone_browser, restore_signal, shot
from tests.e2e.test_push_notifications import alert, push, shown
from tests.e2e.test_pwa import tap
from tests.served import Served, bankroll, second_terminal
from tests.services import Caddy, free_port, missing_caddy_tools, start_caddy, trust_only

pytestmark = pytest.mark.e2e

NAME = "bankroll.home.arpa"  # RFC 8375: the special-use domain for home networks
RESOLVE = f"--host-resolver-rules=MAP {NAME} 127.0.0.1"


@pytest.fixture(scope="module")
def caddy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Caddy, int]]:
    """Caddy on a free https port, proxying to the free port the app will listen on."""
    need(missing_browser())
    need(missing_caddy_tools())
    app_port = free_port()
    proxy = start_caddy(tmp_path_factory.mktemp("proxy"), NAME, f"127.0.0.1:{app_port}")
    try:
        yield proxy, app_port
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, caddy: tuple[Caddy, int]) -> Iterator[Served]:
    """`bankroll serve` behind the proxy: its public address is the https name, and it offers Caddy's root."""
    proxy, app_port = caddy
    env = {"PUBLIC_URL": proxy.url, "BANKROLL_CA_CERT": str(proxy.root)}
    server = Served(tmp_path_factory.mktemp("serve") / "var", port=app_port, env=env)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def origin(caddy: tuple[Caddy, int]) -> LiveServer:
    """The app as the phone sees it (what the offline and push helpers need: its origin)."""
    return LiveServer(url=caddy[0].url, hits=None, redis_url="")


def fingerprint(pem: Path) -> str:
    der = x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def download_root(proxy: Caddy) -> bytes:
    """The root as the phone downloads it from the app, through the proxy, on the https name."""
    with httpx.Client(verify=ssl.create_default_context(cafile=str(proxy.root))) as client:
        answer = client.get(
            f"https://127.0.0.1:{proxy.https_port}/trust/root.crt",
            headers={"Host": f"{NAME}:{proxy.https_port}"},
            extensions={"sni_hostname": NAME},
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-x509-ca-cert"
    return answer.content


@pytest.fixture
async def phone(tmp_path: Path, caddy: tuple[Caddy, int], served: Served) -> AsyncIterator[Any]:
    """A phone-sized Chromium whose certificate store adds the root it downloaded from the app, and nothing else."""
    home = tmp_path / "home"
    downloaded = tmp_path / "bankroll-root.crt"
    downloaded.write_bytes(download_root(caddy[0]))
    trust_only(home, downloaded)
    async with phone_browser(
        tmp_path / "profile", args=[RESOLVE], env={"PATH": "/usr/bin:/bin", "HOME": str(home)}
    ) as context:
        yield context


async def pairing_link(served: Served) -> tuple[str, str]:
    """A new player's pairing link and token, from `bankroll user add` as its owner runs it."""
    done = bankroll("user", "add", f"p{uuid.uuid4().hex[:10]}", env=second_terminal(served))
    assert done.returncode == 0, done.stderr
    link = re.search(r"Pairing link \(one use, 15 minutes\): (\S+)", done.stdout)
    assert link is not None, done.stdout
    return link[1], done.stdout.strip().splitlines()[-1]


def test_serve_prints_the_https_address_a_phone_opens_and_the_root_it_trusts(
    caddy: tuple[Caddy, int], served: Served
) -> None:
    proxy, app_port = caddy
    log = served.log
    assert f"A phone opens {proxy.url} (this server listens on http://127.0.0.1:{app_port})" in log
    assert f"SHA-256 {fingerprint(proxy.root)}" in log
    assert f"{proxy.url}/pair offers it" in log


async def test_without_the_root_the_phone_refuses_the_https_name(
    tmp_path: Path, caddy: tuple[Caddy, int], served: Served
) -> None:
    """The control: the same browser and HOME layout with no root added gets a certificate error, so the trust in
    the other tests comes from the installed root alone."""
    (tmp_path / "home").mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    async with phone_browser(tmp_path / "profile", args=[RESOLVE], env=env) as context:
        page = await context.new_page()
        with pytest.raises(Exception, match="ERR_CERT_AUTHORITY_INVALID"):
            await page.goto(f"{caddy[0].url}/pair")


async def test_a_phone_that_pairs_before_trusting_the_root_stays_on_the_pairing_page_told_to_trust_it(
    tmp_path: Path, caddy: tuple[Caddy, int], served: Served
) -> None:
    (tmp_path / "home").mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    link, _ = await pairing_link(served)
    async with phone_browser(
        tmp_path / "profile", args=[RESOLVE], env=env, click_through_certificate_warnings=True
    ) as context:
        page = await context.new_page()
        await page.goto(link)
        status = page.locator("[data-testid=pair-status]")
        await status.filter(has_text="does not trust the server's certificate yet").wait_for(timeout=15000)
        assert page.url == f"{caddy[0].url}/pair", "no move to an app that could not work offline, install or alert"
        assert await page.locator("[data-testid=trust]").is_visible()
        assert await page.get_attribute("[data-testid=pair-open]", "href") == "/app/"
        assert await page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
        await shot(page, "pair-untrusted")
        await assert_accessible(page, "pairing page asking to trust the local root")


async def test_the_pairing_page_offers_the_local_root_with_its_fingerprint_qr_and_steps(
    phone: Any, caddy: tuple[Caddy, int]
) -> None:
    proxy = caddy[0]
    page = await phone.new_page()
    await page.goto(f"{proxy.url}/pair")
    trust = page.locator("[data-testid=trust]")
    await trust.wait_for()
    assert await page.inner_text("[data-testid=trust-sha256]") == fingerprint(proxy.root)
    assert "Caddy Local Authority" in await page.inner_text("[data-testid=trust-subject]")
    download = await page.get_attribute("[data-testid=trust-download]", "href")
    body = await page.evaluate(
        "async (href) => Array.from(new Uint8Array(await (await fetch(href)).arrayBuffer()))", download
    )
    assert bytes(body) == x509.load_pem_x509_certificate(proxy.root.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    await page.wait_for_function("() => document.querySelector('[data-testid=trust-qr]').naturalWidth > 0")
    await shot(page, "pair-trust-root")
    await page.locator("[data-testid=trust-qr]").scroll_into_view_if_needed()
    await shot(page, "pair-trust-root-qr")
    for steps in ("trust-android", "trust-ios"):
        await page.click(f"[data-testid={steps}] summary")
    assert "CA certificate" in await page.inner_text("[data-testid=trust-android]")
    assert "Certificate Trust Settings" in await page.inner_text("[data-testid=trust-ios]")
    await page.locator("[data-testid=trust-android]").scroll_into_view_if_needed()
    await shot(page, "pair-trust-root-android")
    await page.locator("[data-testid=trust-ios]").scroll_into_view_if_needed()
    await shot(page, "pair-trust-root-ios")


async def test_a_phone_trusting_only_the_local_root_pairs_installs_captures_offline_and_gets_a_push(
    phone: Any, caddy: tuple[Caddy, int], served: Served
) -> None:
    site = origin(caddy)
    link, token = await pairing_link(served)
    assert link.startswith(f"{site.url}/pair#")
    await phone.grant_permissions(["notifications"], origin=site.url)
    page = phone.pages[0] if phone.pages else await phone.new_page()
    await page.goto(link)
    await page.wait_for_url(f"{site.url}/app/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    cookie = next(c for c in await phone.cookies(site.url) if c["name"] == "bankroll_token")
    assert cookie["secure"], "behind the proxy the app knows it is on https (X-Forwarded-Proto)"

    cdp = await phone.new_cdp_session(page)
    assert (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"] == []
    await shot(page, "https-home")

    await page.goto(f"{site.url}/capture")
    await page.wait_for_selector("[data-testid=capture-start]")
    await page.wait_for_load_state("networkidle")
    await cut_signal(phone, site)
    await page.click("[data-testid=capture-start]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=capture-session]")
    session_id = str(await page.get_attribute("[data-testid=capture-session]", "data-live-session"))
    await tap(page, "capture-stack", amount="150")
    await page.wait_for_selector("[data-testid=sync][data-pending='2']")
    await shot(page, "https-capture-offline")
    await restore_signal(phone)
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=20000)

    async def synced() -> list[str]:
        async with httpx.AsyncClient(base_url=served.base, headers={"Authorization": f"Bearer {token}"}) as api:
            answer = await api.get(f"/api/v1/sessions/{session_id}/events")
        return [e["type"] for e in answer.json()] if answer.status_code == 200 else []

    assert await eventually(synced, timeout=20) == ["session.started", "stack.counted"]

    await push(phone, page, site, alert(session_id))
    [note] = await shown(page)
    assert note["title"] == "Time for a break?"
    assert note["data"]["session_id"] == session_id
