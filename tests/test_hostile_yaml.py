"""Issue 14, finding 2: a 363-byte YAML alias bomb is refused, naming the limit, at every entry point
(the admin upload, ``mock-remd scenarios lint``, the config file of ``serve``), quickly and without
the memory blowing up. Subprocesses run under an address-space limit so a regression fails the test
instead of exhausting the machine."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
import requests

from mock_remd import yamlsafe
from mock_remd.catalog.user_messages import yaml_text
from mock_remd.config import ConfigError, Settings

#: nine levels of nine aliases: 9**9 (387 million) strings once expanded; 363 bytes
BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{','.join(['*' + prev] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "name: bomb\nrules: [*i]\n"
)


def _limited() -> None:
    """Child processes get 1.5 GB of address space: the bomb used to take 15 GB."""
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mock_remd", *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limited,
                          env={**os.environ, "MOCK_REMD_CONFIG": ""})


def test_the_bomb_is_small():
    assert 300 < len(BOMB.encode()) < 400


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (BOMB, "max_values"),
        ("[" * 5000 + "]" * 5000, "max_depth"),
        ("a: &a [1, *a]\n", "recursion"),
        ("x: " + "*a " * 10, None),  # an unknown alias is a syntax error, not a crash
        ("- &x [1]\n" + "- *x\n" * 300, "max_aliases"),
    ],
)
def test_loader_refuses_with_the_limit_named(text, limit):
    with pytest.raises((yamlsafe.YamlLimitError, yamlsafe.YamlSyntaxError)) as info:
        yamlsafe.load(text)
    if limit is not None:
        assert isinstance(info.value, yamlsafe.YamlLimitError)
        assert info.value.limit == limit
        assert "limit" in str(info.value) or limit == "recursion"


def test_loader_keeps_ordinary_anchors_and_merge_keys():
    assert yamlsafe.load("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n") == {"base": {"x": 1}, "other": {"x": 1, "y": 2}}


def test_size_limit():
    with pytest.raises(yamlsafe.YamlLimitError) as info:
        yamlsafe.load("a: " + "x" * (yamlsafe.DEFAULT_LIMITS.max_bytes + 1))
    assert "size limit" in yaml_text("en", info.value) and "больше предела YAML" in yaml_text("ru", info.value)


def test_admin_upload_refuses_the_bomb(make_server):
    srv = make_server()
    resp = requests.post(srv.url + "/_admin/scenarios", data=BOMB.encode(),
                         headers={"Content-Type": "application/yaml"}, timeout=30)
    assert resp.status_code == 400
    assert "превышен предел YAML" in resp.text  # Russian by default, English by Accept-Language
    resp = requests.post(srv.url + "/_admin/scenarios", data=BOMB.encode(),
                         headers={"Content-Type": "application/yaml", "Accept-Language": "en"}, timeout=30)
    assert resp.status_code == 400 and "expansion limit" in resp.text
    assert requests.get(srv.url + "/health", timeout=5).status_code == 200


def test_admin_upload_refuses_an_oversized_body_unread(make_server):
    srv = make_server()
    resp = requests.post(srv.url + "/_admin/scenarios", data=b"a: " + b"x" * (2 * 1024 * 1024),
                         headers={"Content-Type": "application/yaml"}, timeout=30)
    assert resp.status_code == 413
    assert "YAML" in resp.json()["error"]


def test_lint_refuses_the_bomb(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    done = _cli("scenarios", "lint", str(bomb), "--lang", "en")
    assert done.returncode == 1
    assert "expansion limit" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_config_file_bomb_is_one_line(tmp_path):
    bomb = tmp_path / "remd.yaml"
    bomb.write_text(BOMB.replace("name: bomb\nrules: [*i]\n", "systems: [*i]\n"))
    with pytest.raises(ConfigError, match="expansion limit"):
        Settings.load({"config": str(bomb)}, environ={})
    done = _cli("serve", "--config", str(bomb), "--port", "0", "--lang", "en")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "expansion limit" in lines[0], done.stderr
    done = _cli("serve", "--config", str(bomb), "--port", "0")  # Russian by default, in one language
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "превышен предел YAML" in lines[0], done.stderr
    assert "limit" not in lines[0], done.stderr


def test_conformance_plan_bomb_is_refused(make_server):
    srv = make_server()
    resp = requests.post(srv.url + "/_admin/conformance/runs", json={"system": "demo", "plan_yaml": BOMB},
                         headers={"Accept-Language": "en"}, timeout=30)
    assert resp.status_code == 400
    assert "expansion limit" in resp.text
    assert requests.get(srv.url + "/health", timeout=5).status_code == 200


def test_conformance_plan_file_bomb_is_refused(tmp_path):
    folder = tmp_path / "scenarios" / "conformance"
    folder.mkdir(parents=True)
    (folder / "bomb.yaml").write_text(BOMB.replace("name: bomb\nrules: [*i]\n", "name: bomb\nplan: 1\nsteps: [*i]\n"))
    from mock_remd.conformance.plan import PlanLibrary

    plans, issues = PlanLibrary(str(tmp_path / "scenarios")).load()
    assert "bomb" not in plans
    assert any("limit" in i.render("en") for i in issues)
