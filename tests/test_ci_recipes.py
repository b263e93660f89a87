"""The CI recipes in docs/ci: YAML parses, the commands/options/modules/settings they name exist."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mock_remd.cli.main import build_parser
from mock_remd.config import Settings
from mock_remd.testing.container import INSTALL_HINT, PORT, container_env

CI = Path(__file__).resolve().parent.parent / "docs" / "ci"
RECIPES = ("github-actions.yml", "gitlab-ci.yml", "docker-compose.yml")
#: MOCK_REMD_* variables that are not server settings but client/plugin ones
CLIENT_VARS = {"MOCK_REMD_URL", "MOCK_REMD_CALLBACK_HOST", "MOCK_REMD_CALLBACK_PORT", "MOCK_REMD_READY_TIMEOUT"}


def load(name: str) -> dict:
    return yaml.safe_load((CI / name).read_text(encoding="utf-8"))


def shell_lines(name: str) -> list[str]:
    """Every shell command line of a recipe (run steps, scripts, compose commands)."""
    out: list[str] = []

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            if key == "command" and all(isinstance(x, str) for x in node):
                out.extend(node[2:] if node[:2] == ["sh", "-c"] else [" ".join(node)])
            else:
                for x in node:
                    walk(x, key)
        elif isinstance(node, str) and key in ("run", "script", "command"):
            out.extend(node.splitlines())

    walk(load(name))
    lines: list[str] = []
    for line in out:
        for part in re.split(r"&&|;", line.split(" #")[0]):
            if part.strip():
                lines.append(part.strip())
    return lines


@pytest.fixture(scope="module")
def pytest_help() -> str:
    proc = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    return proc.stdout


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_commands_exist(name, pytest_help):
    lines = shell_lines(name)
    assert lines, f"{name} runs nothing"
    parser = build_parser()
    for line in lines:
        argv = shlex.split(line)
        for i, token in enumerate(argv):  # a trailing "&" or redirection is the shell's, not the command's
            if token == "&" or token.startswith((">", "2>", "<")):
                argv = argv[:i]
                break
        if argv[0] == "mock-remd":
            parser.parse_args(argv[1:])  # exits (SystemExit) on an unknown subcommand or option
        elif argv[0] == "pytest":
            for opt in argv[1:]:
                if opt.startswith("--"):
                    assert opt.split("=")[0] in pytest_help, f"{name}: pytest has no option {opt}"
        elif argv[0] == "python" and argv[1:2] == ["-m"]:
            assert importlib.util.find_spec(argv[2]) is not None, f"{name}: no module {argv[2]}"


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_settings_and_images(name):
    text = (CI / name).read_text(encoding="utf-8")
    known = {f"MOCK_REMD_{f.name.upper()}" for f in dataclasses.fields(Settings)} | CLIENT_VARS
    for var in set(re.findall(r"MOCK_REMD_[A-Z_]+", text)):
        assert var in known, f"{name} sets {var}, which nothing reads"
    images = re.findall(r"image:\s*(\S+)", text)
    assert images
    for image in images:
        assert ":" in image.split("/")[-1] and not image.endswith(":latest"), f"{name}: unpinned image {image}"


def test_github_actions_service_healthcheck():
    job = load("github-actions.yml")["jobs"]["service-container"]
    remd = job["services"]["remd"]
    assert '--health-cmd "python -m mock_remd.healthcheck"' in remd["options"]
    assert job["env"]["MOCK_REMD_URL"] == "http://remd:8080"
    steps = load("github-actions.yml")["jobs"]["pytest-plugin"]["steps"]
    assert any("pytest" in s.get("run", "") for s in steps)


def test_gitlab_waits_for_the_service():
    job = load("gitlab-ci.yml")["mis-tests-service"]
    assert job["services"][0]["alias"] == "remd"
    wait = [line for line in job["script"] if line.startswith("mock-remd wait")]
    pytest_at = next(i for i, line in enumerate(job["script"]) if line.startswith("pytest"))
    assert wait and job["script"].index(wait[0]) < pytest_at


def test_compose_waits_for_healthy():
    services = load("docker-compose.yml")["services"]
    assert services["mis-tests"]["depends_on"]["remd"]["condition"] == "service_healthy"
    assert services["remd"]["healthcheck"]["test"] == ["CMD", "python", "-m", "mock_remd.healthcheck"]
    assert f"{PORT}:{PORT}" in services["remd"]["ports"]


def test_readme_puts_the_pip_path_first():
    text = (CI / "README.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert "pip + pytest" in headings[0]
    assert text.index("pip install mock-remd") < text.index("## 2.") < text.index("docker build")
    for name in RECIPES:
        assert name in text


def test_container_env_and_import_error():
    assert container_env(signatures="off", magic_values=False, callback_backoff=[0.5, 1]) == {
        "MOCK_REMD_SIGNATURES": "off", "MOCK_REMD_MAGIC_VALUES": "false", "MOCK_REMD_CALLBACK_BACKOFF": "0.5,1",
    }
    with pytest.raises(ValueError, match="fixed in the image"):
        container_env(port=9000)
    if importlib.util.find_spec("testcontainers") is not None:
        pytest.skip("testcontainers is installed: the import works")
    with pytest.raises(ImportError, match="pip install testcontainers"):
        from mock_remd.testing.container import RemdContainer  # noqa: F401
    assert "pip install testcontainers" in INSTALL_HINT
