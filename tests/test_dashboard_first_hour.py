"""The dashboard as a QA tool at 1280 px, in Chromium (issue 13): nothing cut off, nothing untranslated.

A server as ``make run`` gives it (no packs, no NSI), documents registered, rejected and dropped, a
scenario active; Chromium (the real browser, headless) checks what a user sees on each page.
"""

from __future__ import annotations

import re
import socket

import pytest
import requests
from _browser import start_chromium

from mock_remd.client.sink import CallbackSink
from mock_remd.config import Settings
from mock_remd.generator import generate
from mock_remd.server.threaded import ThreadedServer
from mock_remd.soap.builders import content_type

DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
WIDTH = 1280
TIME = re.compile(r"^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d UTC\+3$")
ENGLISH_LEFTOVERS = re.compile(r"\b(success|error|pending|delivered|scope|rule|line|dir)\b")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def setup():
    sink = CallbackSink().start()
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink.url,
                "organizations": [DEMO_ORG]},
               {"mnemonic": "gone", "client_entity_id": "00000000-0000-4000-8000-000000000002",
                "callback_url": f"http://127.0.0.1:{_closed_port()}/cb", "organizations": []}]
    srv = ThreadedServer(Settings.load({"db_url": "sqlite://", "port": 0, "callback_backoff": "0.05",
                                        "systems": systems, "max_request_bytes": 2 * 1024 * 1024},
                                       environ={})).start()

    def post(doc):
        return requests.post(srv.soap_url, data=doc.envelope(), headers={"Content-Type": content_type("1.2")},
                             timeout=30)

    docs = {"ok": generate("119", seed=501), "bad": generate("119", seed=502, invalid="missing-information-recipient"),
            "doctor": generate("119", seed=503, invalid="doctor-snils-mismatch"), "drop": generate("119", seed=504)}
    docs["drop"].request.document_number = "MOCK:DROP:garbage"
    for name, doc in docs.items():
        try:
            post(doc)
        except requests.RequestException:
            assert name == "drop"
    for name in ("ok", "bad", "doctor"):
        sink.wait_for(docs[name].request.message_id, timeout=60)
    driver = start_chromium(WIDTH, 1000)
    yield srv, docs, driver
    driver.quit()
    srv.stop()
    sink.stop()


def by_css(driver, css: str, wait: float = 10.0):
    """The elements matching ``css``, waiting up to ``wait`` s for the page a click started to load."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, wait, poll_frequency=0.1).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, css)) if wait else driver.find_elements(By.CSS_SELECTOR, css)
    except TimeoutException:
        return []


def overflowing(driver, css: str) -> list[str]:
    """Texts of elements matching ``css`` whose content is wider than their box (cut off silently)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1 && !e.title && !e.closest('[title]'))"
        ".map(e => e.textContent.trim().slice(0, 80));", css)


def test_timeline_readable_at_1280(setup):
    srv, docs, driver = setup
    driver.get(srv.url + "/")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= WIDTH
    assert overflowing(driver, "table.timeline td") == []
    row = by_css(driver, f'tr[data-local-uid="{docs["doctor"].local_uid}"]')[0]
    assert "VALUE_MISMATCH_METADATA_AND_CERTIFICATE" in row.text  # whole, not "VALUE_MISMATCH_METADATA_AN…"
    bad = by_css(driver, f'tr[data-local-uid="{docs["bad"].local_uid}"] .reject-msg')[0]
    assert "informationRecipient" in bad.text  # the rejection message is on the timeline
    times = [td.text.replace("\n", " ") for td in by_css(driver, "table.timeline td.when")]
    assert times and all(TIME.match(t) for t in times), times
    assert not ENGLISH_LEFTOVERS.search(by_css(driver, "table.timeline")[0].text)


def test_install_notice_names_the_commands(setup):
    srv, docs, driver = setup
    for path in ("/", f"/documents/{docs['ok'].local_uid}", "/validate"):
        driver.get(srv.url + path)
        notice = by_css(driver, "#install-notice")[0].text
        assert "mock-remd packs import" in notice and "mock-remd nsi import" in notice, path


def test_active_scenario_banner_on_every_page(setup):
    srv, docs, driver = setup
    requests.put(srv.url + "/_admin/scenarios/active", json={"names": ["callback-duplicate"]}, timeout=10)
    try:
        for path in ("/", "/scenarios", "/systems", "/validate", "/conformance", f"/documents/{docs['ok'].local_uid}"):
            driver.get(srv.url + path)
            banner = by_css(driver, "#active-banner")
            assert banner and "callback-duplicate" in banner[0].text, path
    finally:
        requests.delete(srv.url + "/_admin/scenarios/active", timeout=10)
    driver.get(srv.url + "/")
    assert not by_css(driver, "#active-banner", wait=0)


def test_document_page_journal_and_layers(setup):
    srv, docs, driver = setup
    driver.get(f"{srv.url}/documents/{docs['bad'].local_uid}")
    journal = by_css(driver, "#journal")[0]
    assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].parentElement.clientWidth", journal)
    for layer in ("xsd", "schematron", "nsi"):
        head = by_css(driver, f"#layer-{layer} .layer-head")[0].text
        assert "мс" not in head and " ms" not in head  # a layer that did not run has no time
    assert "mock-remd packs import" in by_css(driver, "#layer-xsd .reason")[0].text
    text = by_css(driver, "main")[0].text
    assert not ENGLISH_LEFTOVERS.search(text.split(by_css(driver, "#h-human")[0].text)[0])
    stamps = [e.text.replace("\n", " ").split(" 9")[0] for e in by_css(driver, "td.when")]
    assert stamps and all(re.match(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d UTC\+3", s) for s in stamps), stamps


def test_dropped_request_is_not_http_200(setup):
    srv, docs, driver = setup
    driver.get(f"{srv.url}/documents/{docs['drop'].local_uid}")
    cells = by_css(driver, "#journal tbody tr td")
    assert cells[2].text == "—" and "соединение сброшено" in cells[1].text


def test_english_ui_has_no_russian_skip_reasons(setup):
    srv, docs, driver = setup
    driver.get(srv.url + "/lang/en?next=/documents/" + docs["bad"].local_uid)
    try:
        reasons = [e.text for e in by_css(driver, "li.layer.skipped .reason")]
        assert reasons and not any(re.search("[а-яА-Я]", r) for r in reasons), reasons
        assert "accepted" in by_css(driver, "#journal")[0].text
        labels = [e.text for e in by_css(driver, ".cda dl.facts dt")]  # the readable document's own labels
        assert "Document date" in labels and not any(re.search("[а-яА-Я]", x) for x in labels), labels
    finally:
        driver.get(srv.url + "/lang/ru?next=/")


def test_scenarios_page_with_twenty_scenarios(setup):
    srv, _docs, driver = setup
    driver.get(srv.url + "/scenarios")
    rows = by_css(driver, "tr.scn-row")
    assert len(rows) >= 20
    assert all(r.find_elements("css selector", "button.activate-one, button.deactivate-one") for r in rows)
    assert not re.search(r"\bdir\b", by_css(driver, "#activate-form")[0].text)
    desc = by_css(driver, 'tr.scn-row[data-name="callback-lost"] td.scn-desc')[0].text
    assert "Обратный вызов с результатом не приходит никогда" in desc, desc
    assert "английском" not in by_css(driver, "#activate-form")[0].text  # every built-in one is translated
    driver.get(srv.url + "/lang/en?next=/scenarios")
    try:
        desc = by_css(driver, 'tr.scn-row[data-name="callback-lost"] td.scn-desc')[0].text
        assert desc.startswith("The result callback never comes"), desc
    finally:
        driver.get(srv.url + "/lang/ru?next=/scenarios")
    rows = by_css(driver, "tr.scn-row")
    row = next(r for r in rows if r.get_attribute("data-name") == "callback-late")
    row.find_elements("css selector", "button.activate-one")[0].click()
    try:
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 10).until(expected_conditions.staleness_of(row))  # the page the click loads
        box = by_css(driver, 'tr.scn-row[data-name="callback-late"] input[type="checkbox"]')[0]
        assert box.is_selected()
        assert "callback-late" in by_css(driver, "#active-banner")[0].text
    finally:
        requests.delete(srv.url + "/_admin/scenarios/active", timeout=10)


def test_scenario_file_input_speaks_the_page_language(setup, tmp_path):
    """The scenarios page's YAML upload has the validate page's own button, not the browser's "Choose File"."""
    srv, _docs, driver = setup
    driver.get(srv.url + "/scenarios")
    picker = by_css(driver, 'label.file-pick[for="scn-file"]')[0]
    assert not by_css(driver, "#scn-file")[0].is_displayed()
    assert picker.find_element("css selector", ".file-button").text == "Выбрать файл…"
    assert picker.find_element("css selector", ".file-name").text == "файл не выбран"
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nrules: []\n", encoding="utf-8")
    by_css(driver, "#scn-file")[0].send_keys(str(path))
    assert picker.find_element("css selector", ".file-name").text == "mine.yaml"
    english = requests.get(srv.url + "/scenarios", cookies={"mock_remd_lang": "en"}, timeout=10).text
    assert 'for="scn-file"' in english and "Choose a file…" in english and "no file chosen" in english


def test_test_callback_failure_is_one_sentence(setup):
    srv, _docs, driver = setup
    driver.get(srv.url + "/systems")
    by_css(driver, "#system-gone button.test-callback")[0].click()
    result = by_css(driver, "#test-result")[0].text
    assert "отказал в соединении" in result
    assert "HTTPConnectionPool" not in result and "Error" not in result


def test_too_large_upload_is_a_page(setup):
    srv, _docs, _driver = setup
    resp = requests.post(srv.url + "/validate", files={"document": ("big.xml", b"<a/>" + b" " * (3 * 1024 * 1024))},
                         timeout=30)
    assert resp.status_code == 413
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Файл больше допустимого: 2 МиБ" in resp.text


def test_validate_page_says_partial_when_packs_are_missing(setup, tmp_path):
    srv, docs, driver = setup
    path = tmp_path / "ok.xml"
    path.write_bytes(docs["ok"].content)
    driver.get(srv.url + "/validate")
    # the file inputs speak the page's language: our own button, the browser's native one ("Choose File") hidden
    picker = by_css(driver, 'label.file-pick[for="val-document"]')[0]
    assert not by_css(driver, "#val-document")[0].is_displayed()
    assert picker.find_element("css selector", ".file-button").text == "Выбрать файл…"
    assert picker.find_element("css selector", ".file-name").text == "файл не выбран"
    by_css(driver, "#val-document")[0].send_keys(str(path))
    assert picker.find_element("css selector", ".file-name").text == "ok.xml"
    by_css(driver, "#val-submit")[0].click()
    verdict = by_css(driver, "#val-verdict")[0]
    assert verdict.get_attribute("data-valid") == "partial"
    assert "xsd, schematron, nsi" in verdict.text and "прошёл проверку" not in verdict.text
    heads = " ".join(e.text for e in by_css(driver, "li.layer.skipped .layer-head"))
    assert "мс" not in heads
    signatures = by_css(driver, "#layer-signatures .reason")[0].text
    assert "--request" not in signatures and "файл запроса" in signatures, signatures  # a form, not the CLI
    english = requests.get(srv.url + "/validate", cookies={"mock_remd_lang": "en"}, timeout=10).text
    assert "Choose a file…" in english and "no file chosen" in english


def test_callback_attempt_errors_in_english_ui():
    """The sender stores its sentence in Russian (a real refused connection here); the English UI renders it."""
    from mock_remd.admin.dashboard.i18n import attempt_error
    from mock_remd.catalog.incidents import network_failure

    url = f"http://127.0.0.1:{_closed_port()}/cb"
    try:
        requests.post(url, data=b"x", timeout=5)
    except requests.RequestException as exc:
        stored = network_failure(url, exc, timeout=5)
    assert re.search("[а-я]", stored)
    english = attempt_error("en", stored)
    assert english.startswith("the server at 127.0.0.1:") and not re.search("[а-яА-Я]", english), english
    assert attempt_error("ru", stored) == stored
    assert attempt_error("en", "сервер по адресу 10.0.0.1:80 не ответил за 2.5 с") == \
        "the server at 10.0.0.1:80 did not answer within 2.5 s"
    assert attempt_error("en", "HTTP 503") == "HTTP 503"
