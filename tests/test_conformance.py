"""Conformance runs (CONTRACT §10): the mock tests the MIS.

Two reference MIS clients (``tests/conformance_mis.py``), each its own process with real HTTP, send
generated documents and run a callback endpoint; each is judged by a ``mock-remd conformance run``
process started at the same time against one server (SQLite file): the well-behaved one passes every
step of ``mis-basic``, the careless one fails exactly the four steps it should. Verdicts are read back
through the CLI's output and reports, the admin API, the dashboard HTML and Chromium.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from pg_database import database_url
from scenario_harness import wait_until

from mock_remd.conformance.engine import ConformanceEngine
from mock_remd.conformance.plan import BUILTIN_DIR, compile_plan
from mock_remd.domain.behaviour import RequestFacts
from mock_remd.domain.model import RegisterRequest
from mock_remd.server.threaded import ThreadedServer
from mock_remd.store.repository import Store
from mock_remd.store.systems import System

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MIS = HERE / "conformance_mis.py"
STEPS = ["success-callback-ack", "error-callback-ack", "rate-limit-retry", "duplicate-callback",
         "lost-callback-poll", "foreign-callback"]


def _poll(condition, timeout: float = 20.0, what: str = "condition"):
    """Call ``condition`` until it returns something truthy (a wait-for-condition, not a sleep)."""
    return wait_until(condition, timeout, what)


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mock_remd", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


class _Served:
    """A ``mock-remd serve`` process (gunicorn: HTTP workers and background processes apart)."""

    def __init__(self, db: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.soap_url = self.url + "/port/emdr"
        env = {**os.environ, "MOCK_REMD_CALLBACK_BACKOFF": "0.5,1", "MOCK_REMD_CALLBACK_TIMEOUT": "3"}
        self.proc = subprocess.Popen([sys.executable, "-m", "mock_remd", "serve", "--port", str(port), "--db",
                                      f"sqlite:///{db}", "--workers", "2"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env, cwd=ROOT)
        ready = _cli("wait", self.url, "--timeout", "60", timeout=90)
        assert ready.returncode == 0, self.stop()

    def stop(self) -> str:
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=30)[1].decode(errors="replace")[-2000:]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return ""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server under test runs as ``mock-remd serve`` (SQLite file), like a CI service container."""
    srv = _Served(tmp_path_factory.mktemp("conformance") / "store.db")
    yield srv
    srv.stop()


def _extended_plan(folder: Path) -> Path:
    """The extended plan of docs/conformance.md (its second YAML block) as a file."""
    doc = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    plan = folder / "mis-extended.yaml"
    plan.write_text(doc.split("```yaml\n", 2)[2].split("```", 1)[0], encoding="utf-8")
    return plan


@pytest.fixture(scope="module")
def verdicts(server, tmp_path_factory):
    """Three reference MIS processes judged at once by three CLI runs (three systems on one server):
    the well-behaved and the careless one on mis-basic, the well-behaved one on the documented
    extended plan (late, malformed and SOAP 1.2 callbacks, SOAP fault, HTTP 503, dropped connection)."""
    out = tmp_path_factory.mktemp("reports")
    setups = {"good": ("good", "300", "mis-basic"), "careless": ("careless", "400", "mis-basic"),
              "extended": ("good", "500", str(_extended_plan(out)))}
    procs = {}
    for name, (mode, seed, _plan) in setups.items():
        procs[name] = subprocess.Popen(
            [sys.executable, str(MIS), "--url", server.url, "--system", f"mis-{name}", "--mode", mode, "--seed", seed,
             "--retry-after", "1", "--callback-wait", "1.5", "--linger", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for name, mis in procs.items():
        line = mis.stdout.readline()
        assert line.startswith("READY"), (name, line, mis.stderr.read() if mis.poll() is not None else "")
    clis = {name: subprocess.Popen(
        [sys.executable, "-m", "mock_remd", "conformance", "run", "--url", server.url, "--system", f"mis-{name}",
         "--plan", plan, "--step-timeout", "6", "--retry-after", "1", "--json", str(out / f"{name}.json"),
         "--junit", str(out / f"{name}.xml")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for name, (_mode, _seed, plan) in setups.items()}
    results = {}
    for name, cli in clis.items():
        stdout, stderr = cli.communicate(timeout=120)
        mis_out, mis_err = procs[name].communicate(timeout=60)
        assert procs[name].returncode == 0, mis_err
        run = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        results[name] = {"rc": cli.returncode, "stdout": stdout, "stderr": stderr, "run": run,
                         "junit": out / f"{name}.xml", "mis": mis_out}
    return results


def _steps(run: dict) -> dict[str, dict]:
    return {s["id"]: s for s in run["steps"]}


# ---- the two reference clients -------------------------------------------------------------------
def test_well_behaved_mis_passes_every_step(verdicts, server):
    v = verdicts["good"]
    assert v["rc"] == 0, v["stdout"] + v["stderr"]
    assert v["run"]["passed"] is True and v["run"]["state"] == "finished"
    steps = _steps(v["run"])
    assert [s["id"] for s in v["run"]["steps"]] == STEPS
    assert {s["state"] for s in steps.values()} == {"passed"}
    assert "Re-sent the same localUid after 1." in steps["rate-limit-retry"]["observed"]
    assert "searchRegistryItem" in steps["lost-callback-poll"]["observed"]
    assert "callback 2 with HTTP 200" in steps["duplicate-callback"]["observed"]
    assert "foreign callback with HTTP 200" in steps["foreign-callback"]["observed"]
    # the document was validated all the same: its layers show in observed
    assert "validation found nothing" in steps["success-callback-ack"]["observed"]
    # one progress line per step change, and the summary
    assert v["stdout"].count("passed —") == 6, v["stdout"]
    assert "PASSED: 6/6 steps passed" in v["stdout"]


def test_careless_mis_fails_exactly_the_steps_it_should(verdicts):
    v = verdicts["careless"]
    assert v["rc"] == 1, v["stdout"] + v["stderr"]
    steps = _steps(v["run"])
    assert {k: s["state"] for k, s in steps.items()} == {
        "success-callback-ack": "passed", "error-callback-ack": "passed", "rate-limit-retry": "failed",
        "duplicate-callback": "failed", "lost-callback-poll": "failed", "foreign-callback": "failed"}
    rate = steps["rate-limit-retry"]["observed"]
    assert "with a new localUid" in rate and "expected the same localUid after ≥ 1 s" in rate
    assert "DIGEST_MISMATCH" in rate  # the re-sent document was validated: its old signatures no longer fit
    assert "callback 1 with HTTP 200" in steps["duplicate-callback"]["observed"]
    assert "callback 2 with HTTP 500" in steps["duplicate-callback"]["observed"]
    assert "Did not call searchRegistryItem or getRegistryItem within 6 s" in steps["lost-callback-poll"]["observed"]
    foreign = steps["foreign-callback"]["observed"]
    assert "Did not answer the foreign callback: the connection closed without an HTTP answer" in foreign
    assert "answered the callback with HTTP 200" in foreign
    assert "FAILED: 2/6 steps passed" in v["stdout"]
    assert "Traceback" not in v["stdout"] + v["stderr"]


def test_junit_has_one_testcase_per_step(verdicts):
    for mode, failures in (("good", 0), ("careless", 4)):
        root = ET.parse(verdicts[mode]["junit"]).getroot()
        cases = root.findall(".//testcase")
        assert [c.get("name") for c in cases] == STEPS
        failed = [c for c in cases if c.find("failure") is not None]
        assert len(failed) == failures
        assert root.find("testsuite").get("failures") == str(failures)
        for c in failed:
            assert c.find("failure").get("message") == _steps(verdicts[mode]["run"])[c.get("name")]["observed"]


def test_admin_api_and_dashboard_show_the_verdicts(verdicts, server):
    for mode in ("good", "careless"):
        run_id = verdicts[mode]["run"]["id"]
        api = requests.get(f"{server.url}/_admin/conformance/runs/{run_id}", timeout=10).json()
        assert api["passed"] is (mode == "good")
        assert [s["state"] for s in api["steps"]] == [s["state"] for s in verdicts[mode]["run"]["steps"]]
        html = requests.get(f"{server.url}/conformance/{run_id}", timeout=10).text
        for s in api["steps"]:
            assert f'id="step-{s["id"]}" data-state="{s["state"]}"' in html
        assert 'http-equiv="refresh"' not in html  # finished: no more reloading
        # links to the journal entries and callbacks behind the verdict
        step = api["steps"][0]
        assert f'href="/_admin/requests?message_id={step["requests"][0]["message_id"]}"' in html
        assert f'href="/_admin/callbacks/{step["callbacks"][0]["id"]}"' in html
        assert requests.get(f"{server.url}/_admin/callbacks/{step['callbacks'][0]['id']}", timeout=10).status_code == 200
    listing = requests.get(f"{server.url}/_admin/conformance/runs", timeout=10).json()
    assert {r["system"] for r in listing["items"]} >= {"mis-good", "mis-careless"}
    page = requests.get(f"{server.url}/conformance", timeout=10).text
    assert f'id="run-{verdicts["careless"]["run"]["id"]}" data-state="finished"' in page


def test_run_page_in_chromium(verdicts, server, tmp_path):
    from _browser import start_chromium
    from selenium.webdriver.common.by import By

    driver = start_chromium()
    try:
        driver.get(f"{server.url}/conformance/{verdicts['careless']['run']['id']}")
        states = {e.get_attribute("id"): e.get_attribute("data-state")
                  for e in driver.find_elements(By.CSS_SELECTOR, "section.step")}
        assert states == {f"step-{k}": s["state"] for k, s in _steps(verdicts["careless"]["run"]).items()}
        observed = driver.find_element(By.CSS_SELECTOR, "#step-duplicate-callback .observed").text
        assert "HTTP 500" in observed
        driver.find_element(By.CSS_SELECTOR, "#step-duplicate-callback a.ev-callback").click()
        assert '"relates_to"' in driver.page_source  # the delivery behind the verdict, from the admin API
    finally:
        driver.quit()


# ---- runs without a reference client ---------------------------------------------------------------
def _system(server, name: str) -> None:
    body = {"client_entity_id": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            "callback_url": "http://127.0.0.1:9/none", "organizations": ["1.2.643.5.1.13.13.12.2.50.99999"]}
    requests.put(f"{server.url}/_admin/systems/{name}", json=body, timeout=10).raise_for_status()


def test_step_without_a_document_fails_with_no_document_received(server):
    _system(server, "idle-mis")
    run = requests.post(f"{server.url}/_admin/conformance/runs",
                        json={"system": "idle-mis", "step_timeout_s": 0.5}, timeout=10).json()
    done = _poll(lambda: (r := requests.get(f"{server.url}/_admin/conformance/runs/{run['id']}", timeout=10).json())
                 ["state"] == "finished" and r, what="the run to end")
    assert done["passed"] is False
    assert done["steps"][0]["observed"].startswith("No document received")
    assert all(s["state"] == "failed" and "No document received" in s["observed"] for s in done["steps"])


def test_cancel_and_busy_system(server, tmp_path):
    _system(server, "busy-mis")
    url = f"{server.url}/_admin/conformance/runs"
    first = requests.post(url, json={"system": "busy-mis"}, timeout=10)
    assert first.status_code == 201 and first.json()["state"] == "running"
    second = requests.post(url, json={"system": "busy-mis"}, timeout=10)
    assert second.status_code == 409
    assert second.json()["detail"] == {"active_run": first.json()["id"]}
    # the CLI says so in one sentence and exits 2
    cli = _cli("conformance", "run", "--url", server.url, "--system", "busy-mis")
    assert cli.returncode == 2
    assert cli.stderr.count("\n") == 1 and "409" in cli.stderr and "Traceback" not in cli.stderr
    cancelled = requests.delete(f"{url}/{first.json()['id']}", timeout=10)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert requests.delete(f"{url}/{first.json()['id']}", timeout=10).status_code == 409
    junit = ET.fromstring(requests.get(f"{url}/{first.json()['id']}/junit", timeout=10).content)
    assert len(junit.findall(".//testcase/skipped")) == 6
    again = requests.post(url, json={"system": "busy-mis"}, timeout=10)
    assert again.status_code == 201
    requests.delete(f"{url}/{again.json()['id']}", timeout=10)


def test_refusals_are_single_sentences(server, tmp_path):
    url = f"{server.url}/_admin/conformance/runs"
    assert requests.post(url, json={"system": "nobody"}, timeout=10).status_code == 404
    _system(server, "plan-mis")
    assert requests.post(url, json={"system": "plan-mis", "plan": "no-such-plan"}, timeout=10).status_code == 404
    bad = requests.post(url, json={"system": "plan-mis", "step_timeout_s": "soon"}, timeout=10)
    assert bad.status_code == 400 and "step_timeout_s" in bad.json()["error"]
    broken = requests.post(url, json={"system": "plan-mis", "plan_yaml": "name: x\nsteps:\n  - id: a\n    expect: [nope]\n"},
                           timeout=10)
    assert broken.status_code == 400 and broken.json()["detail"][0]["key"] == "steps[1].expect[1].nope"
    assert requests.get(f"{url}/nope", timeout=10).status_code == 404
    cli = _cli("conformance", "run", "--url", "http://127.0.0.1:9", "--system", "x")
    assert cli.returncode == 2 and "cannot reach the mock" in cli.stderr and "Traceback" not in cli.stderr
    spec = requests.get(f"{server.url}/_admin/openapi.json", timeout=10).json()
    assert {"/_admin/conformance/runs", "/_admin/conformance/runs/{id}", "/_admin/conformance/runs/{id}/junit"} <= set(spec["paths"])


def test_custom_plan_from_a_file_with_a_sync_fault_step(server, tmp_path):
    """A user's plan (the CLI sends the file): the first request gets a SOAP fault, the MIS must retry."""
    _system(server, "fault-mis")
    client = requests.get(f"{server.url}/_admin/systems/fault-mis", timeout=10).json()["client_entity_id"]
    # the MIS side: a generated, signed request (built in its own process, as an MIS would), made before
    # the run starts: the step's clock runs from the start
    make = ("import sys; from mock_remd.soap.builders import register_envelope; "
            "from mock_remd.generator import generate; "
            f"sys.stdout.buffer.write(register_envelope(generate('119', seed=900, client_entity_id='{client}', "
            "system='fault-mis').request, message_id=sys.argv[1]))")
    first_id = f"urn:uuid:{uuid.uuid4()}"
    envelope = subprocess.run([sys.executable, "-c", make, first_id], capture_output=True, timeout=60, check=True).stdout
    plan = tmp_path / "fault.yaml"
    plan.write_text("name: fault-retry\nsteps:\n  - id: sync-fault\n    answer:\n      sync: {fault: {code: Receiver}}\n"
                    "    expect:\n      - resend: {not_before_s: 0}\n", encoding="utf-8")
    cli = subprocess.Popen([sys.executable, "-m", "mock_remd", "conformance", "run", "--url", server.url,
                            "--system", "fault-mis", "--plan", str(plan), "--step-timeout", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    _poll(lambda: requests.get(f"{server.url}/_admin/conformance/runs", params={"system": "fault-mis", "state": "running"},
                               timeout=10).json()["total"], what="the run to start")
    headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
    answers = [requests.post(server.soap_url, data=e, headers=headers, timeout=10)
               for e in (envelope, envelope.replace(first_id.encode(), f"urn:uuid:{uuid.uuid4()}".encode()))]
    assert answers[0].status_code == 500 and b"Fault" in answers[0].content, answers[0].content.decode()[-500:]
    assert b"success" in answers[1].content
    stdout, stderr = cli.communicate(timeout=30)
    assert cli.returncode == 0, stdout + stderr
    assert "[1/1] sync-fault: passed — Re-sent the same localUid after" in stdout


def test_run_survives_a_restart(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    srv = ThreadedServer(db_url=db, port=0).start()
    try:
        run = requests.post(f"{srv.url}/_admin/conformance/runs", json={"system": "demo"}, timeout=10).json()
    finally:
        srv.stop()
    srv = ThreadedServer(db_url=db, port=0).start()
    try:
        again = requests.get(f"{srv.url}/_admin/conformance/runs/{run['id']}", timeout=10).json()
        assert again["state"] == "running" and again["steps"] == run["steps"]
        assert requests.post(f"{srv.url}/_admin/conformance/runs", json={"system": "demo"}, timeout=10).status_code == 409
    finally:
        srv.stop()


# ---- plans -------------------------------------------------------------------------------------------
def test_builtin_plan_and_the_documented_example_lint_clean(tmp_path):
    cli = _cli("scenarios", "lint", str(BUILTIN_DIR), str(ROOT / "scenarios"))
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "планов соответствия: 1" in cli.stdout
    doc = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 2)[2].split("```", 1)[0]  # the second YAML block: the extended plan
    (tmp_path / "conformance").mkdir()
    (tmp_path / "conformance" / "extended.yaml").write_text(example, encoding="utf-8")
    cli = _cli("scenarios", "lint", str(tmp_path))
    assert cli.returncode == 0, cli.stdout + cli.stderr
    plan, issues = compile_plan(example)
    assert not issues and len(plan.steps) >= 6


def test_plan_lint_names_file_line_and_key(tmp_path):
    bad = tmp_path / "bad-plan.yaml"
    bad.write_text("name: bad\nsteps:\n  - id: one\n    answer:\n      callback: {skip: true}\n"
                   "    expect:\n      - ack: {within_s: soon}\n  - id: one\n    expect: [poll]\n", encoding="utf-8")
    cli = _cli("scenarios", "lint", str(bad))
    assert cli.returncode == 1
    assert f"{bad}:7: steps[1].expect[1].ack.within_s: ожидались секунды" in cli.stdout
    assert f"{bad}:8: steps[2].id: id 'one' уже занят шагом 1" in cli.stdout
    assert "подтверждать нечего" in cli.stdout and "найдено ошибок: 3" in cli.stderr
    cli = _cli("scenarios", "lint", str(bad), "--lang", "en")
    assert f"{bad}:7: steps[1].expect[1].ack.within_s: expected seconds" in cli.stdout
    assert f"{bad}:8: steps[2].id: the id 'one' is already used by step 1" in cli.stdout
    assert "nothing to acknowledge" in cli.stdout


# ---- step assignment under concurrency, on each backend -------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    with database_url(request.param, tmp_path, "mock_remd_conf") as url:
        yield url


def test_concurrent_documents_take_distinct_steps(store_url):
    store = Store(store_url)
    store.systems.upsert(System(mnemonic="mis", client_entity_id="c1", organizations=["1.2"]))
    engine = ConformanceEngine(store)
    engine.start({"system": "mis"})
    with pytest.raises(Exception) as busy:
        engine.start({"system": "mis"})
    assert getattr(busy.value, "status", None) == 409
    got: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        req = RegisterRequest(message_id=f"m{n}", local_uid=f"uid-{n}", creation_date_time=f"2026-01-0{n + 1}T10:00:00+03:00")
        b = engine.decide(RequestFacts(operation="registerDocument", system="mis", local_uid=req.local_uid,
                                       patient_snils=f"1234567890{n}", request=req))
        with lock:
            got.append(b.source["step"])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(got) == sorted(STEPS)
    store.close()


def test_plan_yaml_with_an_alias_bomb_is_refused(server):
    """Plans go through the same safe YAML reading as scenarios (aliases limited)."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ) + "name: bomb\nsteps: *i\n"
    plan, issues = compile_plan(bomb)
    assert plan is None and issues
    answer = requests.post(f"{server.url}/_admin/conformance/runs", json={"system": "demo", "plan_yaml": bomb}, timeout=10)
    assert answer.status_code == 400


def test_extended_plan_from_the_docs_passes_a_well_behaved_mis(verdicts):
    v = verdicts["extended"]
    assert v["rc"] == 0, v["stdout"] + v["stderr"]
    assert "PASSED: 6/6 steps passed" in v["stdout"]
    assert [s["id"] for s in v["run"]["steps"]] == ["late-callback", "malformed-callback", "soap12-callback",
                                                    "sync-soap-fault", "http-503", "connection-dropped"]
    steps = _steps(v["run"])
    assert "Answered the callback with HTTP 400" in steps["malformed-callback"]["observed"]
    assert "Re-sent the same localUid after" in steps["connection-dropped"]["observed"]
