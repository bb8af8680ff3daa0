"""Every Caddyfile in ops/caddy/ (docs/https.md) is one Debian's caddy accepts: it adapts and validates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import need
from tests.services import CADDY, REPO_ROOT, missing_caddy_tools

CADDYFILES = sorted((REPO_ROOT / "ops" / "caddy").glob("*.Caddyfile"))


def test_ops_holds_a_caddyfile_for_a_domain_a_home_network_and_a_tailnet() -> None:
    assert [path.name for path in CADDYFILES] == ["domain.Caddyfile", "home.Caddyfile", "tailscale.Caddyfile"]


@pytest.mark.parametrize("caddyfile", CADDYFILES, ids=lambda path: path.name)
def test_the_caddyfile_adapts_and_validates(caddyfile: Path, tmp_path: Path) -> None:
    need(missing_caddy_tools())
    # Validation provisions the TLS app (for `tls internal`, a root): its state goes under tmp_path, never ~.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    done = subprocess.run(
        [str(CADDY), "adapt", "--config", str(caddyfile), "--adapter", "caddyfile", "--validate"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"reverse_proxy"' in done.stdout and '"127.0.0.1:8000"' in done.stdout, "the app behind it, by default"
    formatted = subprocess.run([str(CADDY), "fmt", str(caddyfile)], capture_output=True, text=True, timeout=60)
    assert formatted.stdout == caddyfile.read_text(), "laid out as `caddy fmt` writes it"
