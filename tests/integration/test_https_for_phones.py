"""The server's side of reaching it from a phone (docs/https.md): the local root it offers (BANKROLL_CA_CERT), and
the pairing links it refuses to print for an address no phone can use."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import AsyncTestClient

from adapters.clickhouse import Warehouse
from adapters.root_certificate import load_root_certificate
from bankroll.wiring import Runtime, make_app
from shared.errors import BadSetting
from shared.settings import load_settings
from tests.conftest import need
from tests.served import Served, bankroll, second_terminal
from tests.services import RedisServer, missing_redis_tools
from workers.sinks import ClickHouseSink


def certificate(path: Path, name: str, *, ca: bool) -> bytes:
    """A self-signed certificate like Caddy's local root (``ca``) or like a site's own; returns its DER."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def root(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "root.crt"
    return path, certificate(path, "Caddy Local Authority - 2026 ECC Root", ca=True)


@pytest.fixture
async def trusted_client(
    tmp_path: Path, redis_server: RedisServer, warehouse: Warehouse, root: tuple[Path, bytes]
) -> Any:
    env = {
        "BANKROLL_DATA_DIR": str(tmp_path / "var"),
        "REDIS_URL": redis_server.url,
        "PUBLIC_URL": "https://bankroll.home.arpa",
        "BANKROLL_CA_CERT": str(root[0]),
    }
    runtime = Runtime(settings=load_settings(env), warehouse=warehouse, sinks=[ClickHouseSink(warehouse)])
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as client:
        yield client


async def test_the_local_root_is_described_with_its_fingerprint_and_addresses(
    trusted_client: AsyncTestClient[Any], root: tuple[Path, bytes]
) -> None:
    answer = await trusted_client.get("/api/v1/trust")
    assert answer.status_code == 200
    body = answer.json()
    digest = hashlib.sha256(root[1]).hexdigest().upper()
    assert body["sha256"] == ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert body["subject"] == "Caddy Local Authority - 2026 ECC Root"
    assert body["download"] == "/trust/root.crt"
    assert body["url"] == "https://bankroll.home.arpa/trust/root.crt", "the QR code holds the address under PUBLIC_URL"
    assert body["qr"] == "/trust/root-qr.svg"


async def test_the_local_root_downloads_as_a_ca_certificate_a_phone_installs(
    trusted_client: AsyncTestClient[Any], root: tuple[Path, bytes]
) -> None:
    answer = await trusted_client.get("/trust/root.crt")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-x509-ca-cert"
    assert answer.headers["content-disposition"] == 'attachment; filename="bankroll-root.crt"'
    assert answer.content == root[1], "DER, which both Android and iOS install"
    qr = await trusted_client.get("/trust/root-qr.svg")
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content and b"<path" in qr.content


async def test_without_a_local_root_the_trust_routes_answer_404_naming_the_setting(
    client: AsyncTestClient[Any],
) -> None:
    for path in ("/api/v1/trust", "/trust/root.crt", "/trust/root-qr.svg"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["detail"] == "this server offers no local root certificate (BANKROLL_CA_CERT is unset)"


def test_a_root_setting_naming_a_missing_file_a_non_certificate_or_a_sites_certificate_is_refused(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere.crt"
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    site = tmp_path / "site.crt"
    certificate(site, "bankroll.home.arpa", ca=False)
    expected = {
        missing: f"BANKROLL_CA_CERT={missing}: cannot read it: No such file or directory (Caddy writes its local root "
        "to $XDG_DATA_HOME/caddy/pki/authorities/local/root.crt when it first starts)",
        garbage: f"BANKROLL_CA_CERT={garbage}: not an X.509 certificate in PEM or DER",
        site: f"BANKROLL_CA_CERT={site}: CN=bankroll.home.arpa is not a CA certificate; give the proxy's root (for "
        "Caddy: root.crt), not the site's own certificate",
    }
    for path, message in expected.items():
        with pytest.raises(BadSetting) as refused:
            load_root_certificate(path)
        assert str(refused.value).startswith(message)


@pytest.fixture
def refusing(tmp_path: Path) -> Iterator[Served]:
    """A server whose public address is plain http on the home network: no phone can run the app from it."""
    need(missing_redis_tools())
    server = Served(tmp_path / "var", env={"PUBLIC_URL": "http://192.168.1.20:8000"})
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_serve_on_plain_http_at_a_network_address_says_why_and_pairing_links_are_refused(refusing: Served) -> None:
    why = (
        "http://192.168.1.20:8000 is plain http on a network address, where browsers run no service worker: "
        "a phone needs an https:// address for offline capture, push and install; put Caddy in front and set "
        "PUBLIC_URL to its https:// address (docs/https.md)"
    )
    assert f"A phone cannot open this server: {why}" in refusing.log
    env = second_terminal(refusing)
    for command in (["user", "add", "alice"], ["device", "pair", "alice"]):
        done = bankroll(*command, env=env)
        assert (done.returncode, done.stdout) == (2, ""), done
        assert done.stderr == f"bankroll: no pairing link printed: {why}\n"
    listed = bankroll("device", "list", "alice", env=env)
    assert listed.returncode == 2 and "alice" in listed.stderr, "the refused `user add` created no user"


def test_serve_with_an_unusable_root_setting_stops_in_one_line(tmp_path: Path) -> None:
    need(missing_redis_tools())
    missing = tmp_path / "root.crt"
    server = Served(tmp_path / "var", env={"BANKROLL_CA_CERT": str(missing)})
    try:
        code = server.process.wait(timeout=60)
    finally:
        server.stop()
    log = server.log
    assert code == 2, log
    assert f"bankroll: BANKROLL_CA_CERT={missing}: cannot read it: No such file or directory" in log
    assert "Traceback" not in log
