"""The deploy files are checked by the tools that read them: the systemd units by `systemd-analyze verify`,
compose.yaml against the Compose Specification's JSON schema, the Kubernetes manifests by `kubeconform -strict`
(built by `make kubeconform`, run offline on the schemas vendored in ops/k8s/schemas), and the image's Dockerfile
against the packages pyproject.toml installs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "ops" / "systemd"
K8S = ROOT / "ops" / "k8s"
INSTALLED_AT = "/opt/bankroll"  # where docs/operations.md installs the checkout; the units name it
KUBECONFORM_VERSION = re.search(r"^KUBECONFORM_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
KUBECONFORM = ROOT / ".tools" / f"kubeconform-{KUBECONFORM_VERSION[1] if KUBECONFORM_VERSION else '?'}" / "kubeconform"
SCHEMA_LOCATION = str(K8S / "schemas" / "{{ .ResourceKind }}{{ .KindSuffix }}.json")


def missing_systemd_analyze() -> str | None:
    return None if shutil.which("systemd-analyze") else "systemd-analyze is not installed (Debian's systemd)"


def missing_kubeconform() -> str | None:
    return None if KUBECONFORM.is_file() else f"{KUBECONFORM} is missing: run `make kubeconform`"


def verify_units(units: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` on copies of the units that point at this checkout instead of /opt/bankroll (it
    checks that every ExecStart program exists and is executable)."""
    here = tmp_path / "units"
    here.mkdir()
    for unit in sorted(units.iterdir()):
        (here / unit.name).write_text(unit.read_text().replace(INSTALLED_AT, str(ROOT)))
    return subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in here.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    need(missing_systemd_analyze())
    names = {p.name for p in SYSTEMD.iterdir()}
    assert names == {"bankroll.service", "bankroll-worker.service", "bankroll-backup.service", "bankroll-backup.timer"}
    result = verify_units(SYSTEMD, tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    need(missing_systemd_analyze())
    broken = tmp_path / "broken"
    broken.mkdir()
    for unit in SYSTEMD.iterdir():
        (broken / unit.name).write_text(unit.read_text().replace("Type=exec", "Typ=exec"))
    result = verify_units(broken, tmp_path)
    assert "Unknown key 'Typ' in section [Service]" in result.stderr


def test_the_units_run_serve_worker_and_a_daily_dated_backup() -> None:
    def exec_start(name: str) -> str:
        [line] = [x for x in (SYSTEMD / name).read_text().splitlines() if x.startswith("ExecStart=")]
        return line.removeprefix("ExecStart=")

    bankroll = f"{INSTALLED_AT}/.venv/bin/bankroll"
    assert exec_start("bankroll.service") == f"{bankroll} serve"
    assert exec_start("bankroll-worker.service") == f"{bankroll} worker"
    assert exec_start("bankroll-backup.service") == f"{bankroll} export backup --out /var/lib/bankroll-backups"
    timer = (SYSTEMD / "bankroll-backup.timer").read_text()
    assert "OnCalendar=daily" in timer and "Unit=bankroll-backup.service" in timer


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads((ROOT / "ops" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_yaml_follows_the_compose_specification() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose_errors(compose) == []
    assert {"api", "worker", "redis", "kafka", "clickhouse"} <= compose["services"].keys()


def test_the_compose_check_catches_a_misspelt_key() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    compose["services"]["api"]["healthcheck"]["intervall"] = "10s"
    assert any("intervall" in error for error in compose_errors(compose))


def kubeconform(*paths: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(KUBECONFORM), "-strict", "-summary", "-output", "json", "-schema-location", SCHEMA_LOCATION]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    report["returncode"] = result.returncode
    return report


def manifests() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_the_kubernetes_manifests_pass_kubeconform_strict_offline() -> None:
    need(missing_kubeconform())
    report = kubeconform(*sorted(K8S.glob("*.yaml")))
    assert report["returncode"] == 0, report
    assert report["summary"] == {"valid": 6, "invalid": 0, "errors": 0, "skipped": 0}, report


def test_kubeconform_strict_refuses_a_field_the_schema_does_not_know(tmp_path: Path) -> None:
    need(missing_kubeconform())
    wrong = tmp_path / "worker.yaml"
    wrong.write_text((K8S / "worker.yaml").read_text().replace("replicas: 1", "replicas: 1\n  replica: 1"))
    report = kubeconform(wrong)
    assert report["returncode"] == 1 and report["summary"]["invalid"] == 1
    assert "additional properties 'replica' not allowed" in report["resources"][0]["msg"]


def test_the_manifests_probe_readyz_and_healthz_scale_the_api_and_configure_what_the_app_reads() -> None:
    by = {(d["kind"], d["metadata"]["name"]): d for d in manifests()}
    assert set(by) == {
        ("ConfigMap", "bankroll-config"),
        ("Secret", "bankroll-secrets"),
        ("Deployment", "bankroll-api"),
        ("Service", "bankroll-api"),
        ("Deployment", "bankroll-worker"),
        ("HorizontalPodAutoscaler", "bankroll-api"),
    }
    [api] = by["Deployment", "bankroll-api"]["spec"]["template"]["spec"]["containers"]
    assert api["command"] == ["bankroll", "serve"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    [worker] = by["Deployment", "bankroll-worker"]["spec"]["template"]["spec"]["containers"]
    assert worker["command"] == ["bankroll", "worker"]
    assert by["HorizontalPodAutoscaler", "bankroll-api"]["spec"]["scaleTargetRef"]["name"] == "bankroll-api"
    settings = {**by["ConfigMap", "bankroll-config"]["data"], **by["Secret", "bankroll-secrets"]["stringData"]}
    assert {"KAFKA_BOOTSTRAP_SERVERS", "CLICKHOUSE_URL", "REDIS_URL"} <= settings.keys()
    assert settings["BANKROLL_EMBEDDED_WORKER"] == "false"
    # Every name is a setting the app reads (a misspelt one would be silently ignored).
    read = set(re.findall(r'e\.get\("([A-Z_]+)"', (ROOT / "shared" / "settings.py").read_text()))
    assert settings.keys() <= read, settings.keys() - read


def test_the_image_holds_every_package_the_project_installs() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    wanted = {name.rstrip("*") for name in packages["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "ops" / "Dockerfile").read_text(), re.M))
    assert wanted == copied
