"""The dashboard in a real browser (Debian's chromium + chromedriver via Selenium) against a real server.

A valid and an invalid (Schematron) kind-119 document are registered through the SOAP endpoint; then
the browser finds both on the timeline, opens the invalid one, redelivers a callback, works the
Scenarios page and the Validate page. Screenshots go to ``tests/artifacts/`` (not committed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from _browser import start_chromium
from scenario_harness import wait_until

from mock_remd.client.sink import CallbackSink
from mock_remd.config import Settings
from mock_remd.generator import generate
from mock_remd.server.threaded import ThreadedServer
from mock_remd.soap.builders import content_type

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ROOT = Path(__file__).resolve().parent.parent
PACKS = Path(os.environ.get("MOCK_REMD_SHARED_DIR", ROOT.parent / "shared")) / "packs"
DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
INVALID_RULE = "effective-time-seconds"  # reported by the kind-119 Schematron pack only



def _poll(condition, timeout: float = 30.0, what: str = "condition"):
    """Call ``condition`` until it returns something truthy (a wait-for-condition, not a sleep)."""
    return wait_until(condition, timeout, what)


@pytest.fixture(scope="module")
def sink():
    s = CallbackSink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def server(sink):
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                "organizations": [DEMO_ORG]}]
    values = {"db_url": "sqlite://", "port": 0, "callback_backoff": "0.05,0.05", "systems": systems,
              "signatures": "digest"}
    if PACKS.is_dir():
        values["packs_dir"] = str(PACKS)
    srv = ThreadedServer(Settings.load(values, environ={})).start()
    yield srv
    srv.stop()


def send(server: ThreadedServer, doc) -> requests.Response:
    """POST a generated document's registerDocument envelope to the SOAP endpoint."""
    return requests.post(server.soap_url, data=doc.envelope(), headers={"Content-Type": content_type("1.2")},
                         timeout=30)


@pytest.fixture(scope="module")
def registered(server, sink):
    """The valid and the invalid documents, registered and called back (``twice``: a defect that the header
    rules and the Schematron both find)."""
    valid = generate("119", seed=101)
    invalid = generate("119", seed=102, invalid=INVALID_RULE)
    twice = generate("119", seed=107, invalid="missing-information-recipient")
    for doc in (valid, invalid, twice):
        assert send(server, doc).status_code == 200
    for doc in (valid, invalid, twice):
        sink.wait_for(doc.request.message_id, timeout=60)
    return {"valid": valid, "invalid": invalid, "twice": twice}


@pytest.fixture(scope="module")
def browser():
    driver = start_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    """Save a full-height screenshot to tests/artifacts/dashboard-<name>.png."""
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1440, min(max(900, int(height)), 4000))
    driver.save_screenshot(str(ARTIFACTS / f"dashboard-{name}.png"))
    driver.set_window_size(1440, 900)


def wait(driver, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout)


def by_css(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def test_timeline_shows_both_documents(server, registered, browser):
    browser.get(server.url + "/")
    valid, invalid = registered["valid"], registered["invalid"]
    row_v = wait(browser).until(lambda d: by_css(d, f'tr[data-local-uid="{valid.local_uid}"]'))[0]
    row_i = by_css(browser, f'tr[data-local-uid="{invalid.local_uid}"]')[0]
    assert "зарегистрирован" in row_v.text and "доставлен" in row_v.text
    assert "119" in row_v.text and "Протокол консультации" in row_v.text
    assert "отклонён" in row_i.text and "VALIDATION_ERROR" in row_i.text
    shot(browser, "timeline-ru")
    by_css(browser, "#lang-switch")[0].click()
    wait(browser).until(lambda d: "registered" in by_css(d, f'tr[data-local-uid="{valid.local_uid}"]')[0].text)
    assert by_css(browser, "html")[0].get_attribute("lang") == "en"
    shot(browser, "timeline-en")
    by_css(browser, "#lang-switch")[0].click()
    wait(browser).until(lambda d: by_css(d, "html")[0].get_attribute("lang") == "ru")


def test_invalid_document_shows_failing_schematron_rule(server, registered, browser):
    if not PACKS.is_dir():
        pytest.skip(f"official validation packs not found at {PACKS}: no Schematron layer to show")
    invalid = registered["invalid"]
    stored = requests.get(f"{server.url}/_admin/documents/{invalid.local_uid}", timeout=10).json()
    sch = next(layer for layer in stored["layers"] if layer["name"] == "schematron")
    assert sch["ran"] and not sch["passed"]
    rule = sch["findings"][0]["rule"]
    browser.get(server.url + "/")
    link = wait(browser).until(lambda d: by_css(d, f'tr[data-local-uid="{invalid.local_uid}"] td.uid a'))[0]
    link.click()
    layer = wait(browser).until(lambda d: by_css(d, "#layer-schematron"))[0]
    assert "failed" in layer.get_attribute("class")
    assert rule in [c.text for c in by_css(browser, "#layer-schematron td.rule code")]
    assert "passed" in by_css(browser, "#layer-xml")[0].get_attribute("class")
    failing = by_css(browser, "table.xml-lines tr.failing")
    assert failing, "the failing line is marked in the XML view"
    line = sch["findings"][0]["line"]
    if line:
        assert f"L{line}" in [tr.get_attribute("id") for tr in failing]
    assert by_css(browser, ".cda .cda-patient")[0].text.strip()
    assert by_css(browser, ".cda-section h4")
    signers = by_css(browser, "#signatures td.signer")
    assert signers and signers[0].text.strip()
    shot(browser, "document-invalid")


def test_redeliver_adds_an_attempt(server, registered, browser):
    valid = registered["valid"]
    browser.get(f"{server.url}/documents/{valid.local_uid}")
    before = len(wait(browser).until(lambda d: by_css(d, "#callbacks-live tr.attempt")))
    by_css(browser, "#callbacks-live button.redeliver")[0].click()
    wait(browser).until(lambda d: len(by_css(d, "#callbacks-live tr.attempt")) == before + 1
                        and by_css(d, ".delivery-status")[0].get_attribute("data-status") == "delivered")
    assert "200" in by_css(browser, "#callbacks-live tr.attempt")[-1].text
    shot(browser, "document-redelivered")


GOOD_SCENARIO = """\
name: dash-rate-limit
description: every registerDocument of demo is refused with RATE_LIMIT
rules:
  - match:
      operation: registerDocument
      system: demo
    sync:
      errors: [{code: RATE_LIMIT}]
"""

BAD_SCENARIO = """\
name: dash-broken
rules:
  - match:
      operation: flyToTheMoon
    sync:
      drop: explode
"""


def _engine_ready(server) -> bool:
    return server.runtime.scenarios is not None


def test_scenario_upload_activate_and_effect(server, registered, browser):
    if not _engine_ready(server):
        pytest.skip("the scenario engine (mock_remd/scenarios/engine.py) is not in this build")
    browser.get(server.url + "/scenarios")
    box = wait(browser).until(lambda d: by_css(d, "#scn-source"))[0]
    box.send_keys(GOOD_SCENARIO)
    by_css(browser, "#upload")[0].click()
    wait(browser).until(lambda d: by_css(d, "#scn-message"))
    by_css(browser, '#activate-form input[value="dash-rate-limit"]')[0].click()
    by_css(browser, "#activate")[0].click()
    wait(browser).until(lambda d: "dash-rate-limit" in [c.text for c in by_css(d, "code.active-name")])
    shot(browser, "scenarios-active")
    try:
        extra = generate("119", seed=103)
        browser.get(server.url + "/")
        wait(browser).until(lambda d: by_css(d, "#timeline-rows tr.tl-row"))
        answer = send(server, extra)
        assert b"RATE_LIMIT" in answer.content
        # the open timeline picks the new row up by itself (live polling, no reload)
        row = wait(browser).until(lambda d: by_css(d, f'tr[data-local-uid="{extra.local_uid}"]'))[0]
        assert "RATE_LIMIT" in row.text
        shot(browser, "timeline-scenario")
        browser.get(f"{server.url}/documents/{extra.local_uid}")
        assert "RATE_LIMIT" in wait(browser).until(lambda d: by_css(d, "#journal"))[0].text
    finally:
        browser.get(server.url + "/scenarios")
        for btn in by_css(browser, "button.deactivate"):
            btn.click()
            break
        wait(browser).until(lambda d: not by_css(d, "code.active-name"))
    # with the scenario off, the next request is accepted again
    assert b"RATE_LIMIT" not in send(server, generate("119", seed=104)).content


def test_invalid_scenario_shows_lint_errors(server, browser):
    if not _engine_ready(server):
        pytest.skip("the scenario engine (mock_remd/scenarios/engine.py) is not in this build")
    browser.get(server.url + "/scenarios")
    wait(browser).until(lambda d: by_css(d, "#scn-source"))[0].send_keys(BAD_SCENARIO)
    by_css(browser, "#upload")[0].click()
    lint = wait(browser).until(lambda d: by_css(d, "#scn-lint"))[0]
    assert "flyToTheMoon" in lint.text or "operation" in lint.text
    assert by_css(browser, "#scn-source")[0].get_attribute("value").startswith("name: dash-broken")
    assert "dash-broken" not in [c.text for c in by_css(browser, "#activate-form code")]
    shot(browser, "scenarios-lint")


def _defect_shown_once(browser) -> None:
    """The missing informationRecipient, found by the header rule H-informationRecipient and by two Schematron
    asserts, is listed under the Schematron only, the header named as a second source (as ``validate`` does)."""
    rows = [r.text for r in by_css(browser, "tr.finding")]
    assert not [r for r in rows if "H-informationRecipient" in r.split("\n")[0] and "то же" not in r], rows
    assert len([r for r in rows if "informationRecipient" in r]) == 2, rows  # the two Schematron asserts
    also = [e.text for e in by_css(browser, "#layer-schematron .also")]
    assert also == ["то же нашёл слой header (H-informationRecipient)"], also
    assert not by_css(browser, "#layer-header tr.finding")
    assert "1 показано под schematron" in by_css(browser, "#layer-header .layer-head")[0].text


def test_document_page_shows_a_defect_of_two_layers_once(server, registered, browser):
    if not PACKS.is_dir():
        pytest.skip(f"official validation packs not found at {PACKS}: no Schematron layer to merge with")
    browser.get(f"{server.url}/documents/{registered['twice'].local_uid}")
    wait(browser).until(lambda d: by_css(d, "#layer-schematron"))
    _defect_shown_once(browser)


def test_validate_page_reports_layers(server, registered, browser, tmp_path):
    invalid = registered["twice"]
    doc = tmp_path / "invalid.xml"
    doc.write_bytes(invalid.content)
    req = tmp_path / "request.xml"
    req.write_bytes(invalid.envelope())
    browser.get(server.url + "/validate")
    wait(browser).until(lambda d: by_css(d, "#val-document"))[0].send_keys(str(doc))
    by_css(browser, "#val-request")[0].send_keys(str(req))
    by_css(browser, "#val-submit")[0].click()
    verdict = wait(browser, 60).until(lambda d: by_css(d, "#val-verdict"))[0]
    layers = [li.get_attribute("data-layer") for li in by_css(browser, "ol.layers li.layer")]
    assert layers == ["xml", "kind", "header", "xsd", "schematron", "nsi", "cross", "signatures"]
    assert "passed" in by_css(browser, "#layer-signatures")[0].get_attribute("class")
    if PACKS.is_dir():
        assert verdict.get_attribute("data-valid") == "false"
        assert "failed" in by_css(browser, "#layer-schematron")[0].get_attribute("class")
        _defect_shown_once(browser)
    shot(browser, "validate")
