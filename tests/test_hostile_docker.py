"""Issue 14, finding 10, the parts that need no container engine: the CI job that builds and runs the
image, and the compose file with PostgreSQL and two instances behind one URL, name only commands,
options and settings that exist. (The image itself is built and run by .github/workflows/docker.yml.)"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import yaml

from mock_remd.cli.main import build_parser
from mock_remd.config import Settings

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "docker.yml"
CLUSTER = ROOT / "docs" / "ci" / "docker-compose.cluster.yml"


def _runs(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines() if line.strip()]


def test_workflow_builds_starts_with_healthcheck_and_registers():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    image = _runs(jobs["image"])
    assert any(line.startswith("docker build") for line in image)
    assert any(".State.Health.Status" in line for line in image)
    sends = [line for job in jobs.values() for line in _runs(job) if line.startswith("mock-remd ")]
    assert any(s.startswith("mock-remd send") for s in sends)
    parser = build_parser()
    for line in sends:
        parser.parse_args(shlex.split(line)[1:])  # exits on an unknown command or option
    assert any("docker-compose.cluster.yml" in line for line in _runs(jobs["cluster"]))


def test_cluster_compose_two_instances_one_database_one_url():
    services = yaml.safe_load(CLUSTER.read_text())["services"]
    remd = services["remd"]
    assert remd["deploy"]["replicas"] == 2
    assert remd["environment"]["MOCK_REMD_DB_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in remd["environment"]["MOCK_REMD_DB_URL"]
    assert remd["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert remd["healthcheck"]["test"] == ["CMD", "python", "-m", "mock_remd.healthcheck"]
    assert services["front"]["ports"] == ["8080:8080"]
    conf = (CLUSTER.parent / "nginx-remd.conf").read_text()
    assert "server remd:8080" in conf and "proxy_pass http://remd" in conf
    known = {f"MOCK_REMD_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    assert set(re.findall(r"MOCK_REMD_[A-Z_]+", CLUSTER.read_text())) <= known
    for svc in services.values():
        if "image" in svc:
            assert ":" in svc["image"] and not svc["image"].endswith(":latest")
