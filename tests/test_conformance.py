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
import re
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
    langs = {"good": ["--lang", "en"], "careless": [], "extended": ["--lang", "en"]}  # careless: Russian, the default
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
         "--junit", str(out / f"{name}.xml"), *langs[name]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT)
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


def test_careless_mis_fails_exactly_the_steps_it_should(verdicts, server):
    """Judged by a run in the default language (Russian); the admin API gives the same run in English."""
    v = verdicts["careless"]
    assert v["rc"] == 1, v["stdout"] + v["stderr"]
    steps = _steps(v["run"])
    assert {k: s["state"] for k, s in steps.items()} == {
        "success-callback-ack": "passed", "error-callback-ack": "passed", "rate-limit-retry": "failed",
        "duplicate-callback": "failed", "lost-callback-poll": "failed", "foreign-callback": "failed"}
    rate = steps["rate-limit-retry"]["observed"]
    assert rate.startswith("Документ отправлен повторно с новым localUid ") and " через " in rate, rate
    assert "ожидался тот же localUid не раньше чем через 1 с" in rate
    assert "DIGEST_MISMATCH" in rate  # the re-sent document was validated: its old signatures no longer fit
    assert steps["rate-limit-retry"]["expected"].startswith("МИС повторно отправляет тот же localUid")
    assert steps["duplicate-callback"]["observed"].startswith("На обратный вызов 1 получен ответ HTTP 200")
    assert "на обратный вызов 2 получен ответ HTTP 500" in steps["duplicate-callback"]["observed"]
    assert steps["lost-callback-poll"]["observed"].startswith(
        "За 6 с не было вызовов searchRegistryItem или getRegistryItem")
    foreign = steps["foreign-callback"]["observed"]
    assert "На чужой обратный вызов нет ответа: соединение закрыто без ответа HTTP" in foreign
    assert "на обратный вызов получен ответ HTTP 200" in foreign
    lines = v["stdout"].splitlines()
    assert lines[0].startswith(f"прогон {v['run']['id']} для системы mis-careless, план mis-basic: шагов 6")
    assert any(ln.startswith("[3/6] rate-limit-retry: НЕ ПРОЙДЕН — наблюдалось: Документ отправлен повторно")
               and " Ожидалось: МИС " in ln for ln in lines), v["stdout"]
    assert lines[-1].startswith("НЕ ПРОЙДЕН: пройдено 2/6 шагов (прогон ")
    assert "Traceback" not in v["stdout"] + v["stderr"]
    english = _steps(requests.get(f"{server.url}/_admin/conformance/runs/{v['run']['id']}",
                                  headers={"Accept-Language": "en"}, timeout=10).json())
    rate = english["rate-limit-retry"]["observed"]
    assert rate.startswith("Re-sent after ") and "expected the same localUid after ≥ 1 s" in rate, rate
    assert "DIGEST_MISMATCH" in rate and "; validation found " in rate
    assert english["rate-limit-retry"]["expected"].startswith("The MIS re-sends the same localUid after ≥ 1 s")
    assert "callback 2 with HTTP 500" in english["duplicate-callback"]["observed"]
    assert "Did not call searchRegistryItem or getRegistryItem within 6 s" in english["lost-callback-poll"]["observed"]
    assert "Did not answer the foreign callback: the connection closed without an HTTP answer" in \
        english["foreign-callback"]["observed"]


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
    page = f"{server.url}/conformance/{verdicts['careless']['run']['id']}"
    try:
        driver.get(page)  # Russian, the default
        states = {e.get_attribute("id"): e.get_attribute("data-state")
                  for e in driver.find_elements(By.CSS_SELECTOR, "section.step")}
        assert states == {f"step-{k}": s["state"] for k, s in _steps(verdicts["careless"]["run"]).items()}
        step = driver.find_element(By.CSS_SELECTOR, "#step-duplicate-callback")
        assert "на обратный вызов 2 получен ответ HTTP 500" in step.find_element(By.CSS_SELECTOR, ".observed").text
        assert step.find_element(By.CSS_SELECTOR, ".expected").text.startswith("МИС отвечает на оба обратных вызова")
        assert "Выдерживает один и тот же обратный вызов дважды" in step.text
        assert "→ принят" in step.text and not re.search(r"\b(success|ms|new localUid)\b", step.text), step.text
        driver.get(f"{server.url}/lang/en?next=/conformance/{verdicts['careless']['run']['id']}")
        step = driver.find_element(By.CSS_SELECTOR, "#step-duplicate-callback")
        assert "answered callback 2 with HTTP 500" in step.find_element(By.CSS_SELECTOR, ".observed").text
        assert step.find_element(By.CSS_SELECTOR, ".expected").text.startswith("The MIS answers both callbacks")
        assert "Survives the same callback twice" in step.text
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
    assert done["steps"][0]["observed"].startswith("Документ не получен: система idle-mis не зарегистрировала")
    assert all(s["state"] == "failed" and "Документ не получен" in s["observed"] for s in done["steps"])
    english = requests.get(f"{server.url}/_admin/conformance/runs/{run['id']}", headers={"Accept-Language": "en"},
                           timeout=10).json()
    assert english["steps"][0]["observed"] == ("No document received: the system idle-mis registered no new localUid "
                                               "within 0.5 s.")
    assert english["steps"][1]["observed"] == \
        "No document received: not reached, step success-callback-ack got no document."


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
    assert cli.returncode == 2 and "mock-remd по адресу http://127.0.0.1:9 недоступен" in cli.stderr
    assert "Traceback" not in cli.stderr
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
    assert "[1/1] sync-fault: пройден — Тот же localUid отправлен повторно через" in stdout


def test_run_stored_before_verdicts_were_messages_still_renders(tmp_path):
    """A run stored by the earlier code (its sentences as English text) reads the same in every language."""
    import datetime as dt

    from mock_remd.conformance.plan import PlanLibrary
    from mock_remd.store.runs import Run

    db = f"sqlite:///{tmp_path / 'store.db'}"
    plan = PlanLibrary("").get("mis-basic")
    steps = [{"id": s.id, "title": s.title, "state": "failed", "expected": f"The MIS {s.id} (stored)",
              "observed": f"No document received: stored text of {s.id}.", "local_uid": None, "started_at": None,
              "finished_at": "2026-12-01T10:00:00", "sends": []} for s in plan.steps]
    old = {**plan.as_dict(), "steps": [{k: v for k, v in st.items() if k != "title_ru"}
                                       for st in plan.as_dict()["steps"]]}
    store = Store(db)
    store.runs.create(Run(id="old0run00001", system="old-mis", plan="mis-basic", plan_def=old,
                          params={"step_timeout_s": 120.0, "retry_after_s": 60.0}, state="finished", passed=False,
                          steps=steps, created_at=dt.datetime(2026, 12, 1, 10), finished_at=dt.datetime(2026, 12, 1, 11)))
    store.close()
    srv = ThreadedServer(db_url=db, port=0).start()
    try:
        for lang in ("ru", "en"):
            got = requests.get(f"{srv.url}/_admin/conformance/runs/old0run00001", headers={"Accept-Language": lang},
                               timeout=10).json()
            assert [(s["title"], s["expected"], s["observed"]) for s in got["steps"]] == \
                [(s["title"], s["expected"], s["observed"]) for s in steps]
        html = requests.get(f"{srv.url}/conformance/old0run00001", timeout=10).text
        assert "No document received: stored text of foreign-callback." in html
        junit = requests.get(f"{srv.url}/_admin/conformance/runs/old0run00001/junit", timeout=10).content
        assert b"stored text of rate-limit-retry" in junit
    finally:
        srv.stop()


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


def _in_order(example: str, real: str) -> bool:
    """``example`` (with … for what it leaves out) is ``real`` word for word, apart from the left-out parts."""
    at = 0
    for piece in (p.strip() for p in example.split("…")):
        found = real.find(piece, at) if piece else at
        if found < 0:
            return False
        at = found + len(piece)
    return True


def test_readme_example_is_what_the_cli_prints():
    """The README's conformance example, in Russian (the default) and in English, is the CLI's wording."""
    from mock_remd.catalog.user_messages import say, text
    from mock_remd.cli.cmd_conformance import step_line
    from mock_remd.conformance.judge import expected_sentence, observed_record, observed_text, secs

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("--junit conformance.xml\n", 1)[1].split("```", 1)[0]
    shown = [ln[2:].strip() for ln in block.splitlines() if ln.startswith("# ") and not ln.startswith("#   ")]
    continued = block.replace("\n#       ", " ").splitlines()
    step_example = next(ln[2:] for ln in continued if ln.startswith("# [3/6]"))
    plan = compile_plan((BUILTIN_DIR / "mis-basic.yaml").read_text(encoding="utf-8"))[0]
    params = {"step_timeout_s": 30.0, "retry_after_s": 5.0}
    rate = next(s for s in plan.steps if s.id == "rate-limit-retry")
    clause = text("judge.resent_new_uid", delay=secs(0.2), uid="5b1c0e2a…", want=text("judge.want_after", low=secs(5)))
    stored = {"observed_record": observed_record([clause], [text("judge.doc.registered", emdr_id="1.50.26.12.000000002")])}
    english_note = readme.split("With `--lang en` (and `Accept-Language: en` for the admin API)", 1)[1].split("\n\n")[0]
    for lang in ("ru", "en"):
        step = {"id": rate.id, "state": "failed", "observed": observed_text(lang, stored),
                "expected": expected_sentence(rate, params).render(lang)}
        real_step = step_line(3, 6, step, lang)
        real_end = say(lang, "conformance.cli.summary", verdict=say(lang, "conformance.cli.failed"), passed=5, total=6,
                       run="3f2c…", url="http://127.0.0.1:8080/conformance/3f2c…")
        if lang == "ru":
            start = say(lang, "conformance.cli.started", run="3f2c…", system="demo", plan="mis-basic", total=6,
                        timeout="30", retry="5")
            assert _in_order(shown[0], start), (shown[0], start)
            assert _in_order(step_example, real_step), (step_example, real_step)
            assert shown[-1] == real_end
        else:
            examples = [e.replace("\n", " ") for e in english_note.split("`")[1::2]]
            assert _in_order(examples[0], real_step), (examples[0], real_step)
            assert _in_order(examples[1], real_end), (examples[1], real_end)
