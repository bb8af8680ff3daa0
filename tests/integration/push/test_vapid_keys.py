"""The VAPID key pair is made on first start, kept private on disk, and the same after a restart."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from adapters.push import load_or_create_vapid
from tests.integration.push.browser import unb64url


def test_the_key_is_made_once_and_kept_readable_by_the_owner_only(tmp_path: Path) -> None:
    load_or_create_vapid(tmp_path)
    path = tmp_path / "vapid" / "private_key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_restart_loads_the_same_key(tmp_path: Path) -> None:
    assert (
        load_or_create_vapid(tmp_path).application_server_key == load_or_create_vapid(tmp_path).application_server_key
    )


def test_the_application_server_key_is_an_uncompressed_p256_point(tmp_path: Path) -> None:
    raw = unb64url(load_or_create_vapid(tmp_path).application_server_key)
    assert len(raw) == 65 and raw[0] == 4


def test_a_key_file_that_is_not_p256_is_refused(tmp_path: Path) -> None:
    (tmp_path / "vapid").mkdir()
    other = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "vapid" / "private_key.pem").write_bytes(other)
    with pytest.raises(ValueError, match="must be a P-256"):
        load_or_create_vapid(tmp_path)
