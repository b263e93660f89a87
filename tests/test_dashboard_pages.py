"""Dashboard pages: a 10,000-document timeline (Flask's test client), login, downloads and the test callback
(over HTTP against real servers)."""

from __future__ import annotations

import base64
import re

import pytest
import requests
from conftest import start_server, unbound_app
from lxml import etree

from mock_remd.admin.dashboard.cda_view import render_cda, xml_lines
from mock_remd.bench.dashboard import seed_timeline
from mock_remd.generator import generate
from mock_remd.server.threaded import ThreadedServer
from mock_remd.soap.builders import content_type
from mock_remd.soap.operations import find_register_request, parse_register

DEMO_CLIENT = "00000000-0000-4000-8000-000000000001"
DEMO_ORG = "1.2.643.5.1.13.13.12.2.50.99999"
ROW = re.compile(r'<tr class="tl-row[^"]*" data-local-uid="([^"]*)"')


def _server(tmp_path, sink_url: str = "", **overrides) -> ThreadedServer:
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": sink_url,
                "organizations": [DEMO_ORG]}]
    return start_server(systems, db_url=f"sqlite:///{tmp_path / 'store.db'}", callback_backoff="0.05,0.05",
                        **overrides)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """Flask's test client of a dashboard whose store holds 10,000 documents and 500 synchronously refused
    requests (pages only: no socket, no background loops)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('big') / 'store.db'}"
    systems = [{"mnemonic": "demo", "client_entity_id": DEMO_CLIENT, "callback_url": "", "organizations": [DEMO_ORG]}]
    with unbound_app(db_url=db, validation="none", signatures="off", systems=systems) as app:
        uids = seed_timeline(app.runtime.store, 10000)
        yield app.admin.test_client(), uids


def test_first_page_of_10000_documents(big):
    client, uids = big
    resp = client.get("/")
    assert resp.status_code == 200
    rows = ROW.findall(resp.text)
    assert len(rows) == 50
    assert rows[0] == uids[-1]  # newest first
    assert rows[:5] == [uids[-1], uids[-2], uids[-3], uids[-4], uids[-5]]
    assert "Всего: 10500" in resp.text and "стр. 1 из 210" in resp.text
    assert "доставлен, попыток: 1" in resp.text


def test_pagination_and_filters_on_10000_documents(big):
    client, uids = big
    page2 = ROW.findall(client.get("/?page=2").text)
    page1 = ROW.findall(client.get("/?page=1").text)
    assert len(page2) == 50 and not set(page1) & set(page2)
    last = client.get("/?page=999").text  # clamped to the last page
    assert "стр. 210 из 210" in last and uids[0] in ROW.findall(last)
    rejected = client.get("/_admin/ui/timeline?status=rejected").json
    assert rejected["total"] == 3334  # every third document
    assert "зарегистрирован" not in rejected["rows"] and "отклонён" in rejected["rows"]
    refused = client.get("/_admin/ui/timeline?status=sync_error").json
    assert refused["total"] == 500 and "NOT_UNIQUE_PROVIDED_ID" in refused["rows"]
    one = client.get("/", query_string={"q": uids[1234][-12:]}).text
    assert ROW.findall(one) == [uids[1234]]
    by_emdr = client.get("/", query_string={"q": "1.50.26.11.000001236"}).text
    assert ROW.findall(by_emdr) == [uids[1235]]
    kind = client.get("/_admin/ui/timeline?kind=174").json
    assert kind["total"] == 2500
    assert client.get("/", query_string={"q": "%_%"}).text.count('class="tl-row') == 0


def test_token_protects_the_dashboard(tmp_path):
    srv = _server(tmp_path, admin_token="s3cret")
    try:
        s = requests.Session()
        first = s.get(srv.url + "/", allow_redirects=False, timeout=10)
        assert first.status_code == 302 and first.headers["Location"].startswith("/login")
        assert s.get(srv.url + "/_admin/ui/timeline", timeout=10).status_code == 401
        bad = s.post(srv.url + "/login", data={"token": "nope", "next": "/systems"}, timeout=10)
        assert bad.status_code == 401 and "Неверный токен" in bad.text
        ok = s.post(srv.url + "/login", data={"token": "s3cret", "next": "/systems"}, timeout=10)
        assert ok.status_code == 200 and ok.url.endswith("/systems") and "demo" in ok.text
        assert "HttpOnly" in ok.history[0].headers["Set-Cookie"]
        assert s.get(srv.url + "/_admin/ui/timeline", timeout=10).status_code == 200
        assert s.get(srv.url + "/_admin/systems", timeout=10).status_code == 200
        offsite = s.post(srv.url + "/login", data={"token": "s3cret", "next": "//evil.example/"},
                         allow_redirects=False, timeout=10)
        assert offsite.headers["Location"] == "/"
        bearer = requests.get(srv.url + "/", headers={"Authorization": "Bearer s3cret"}, timeout=10)
        assert bearer.status_code == 200 and "registerDocument" in bearer.text
    finally:
        srv.stop()


def test_document_downloads_and_test_callback(tmp_path, sink):
    srv = _server(tmp_path, sink.url)
    try:
        doc = generate("119", seed=7)
        requests.post(srv.soap_url, data=doc.envelope(), headers={"Content-Type": content_type("1.2")}, timeout=30)
        sink.wait_for(doc.request.message_id, timeout=20)
        page = requests.get(f"{srv.url}/documents/{doc.local_uid}", timeout=10)
        assert page.status_code == 200 and "зарегистрирован" in page.text
        birth = doc.request.patient.birth_date  # ISO in the request, dd.mm.yyyy like every date on the page
        assert birth and birth not in page.text and f"{birth[8:10]}.{birth[5:7]}.{birth[:4]}" in page.text
        got = requests.get(f"{srv.url}/documents/{doc.local_uid}/document.xml", timeout=10)
        assert got.content == doc.content
        env = requests.get(f"{srv.url}/documents/{doc.local_uid}/request.xml", timeout=10)
        req = parse_register(find_register_request(etree.fromstring(env.content)))
        assert req.local_uid == doc.local_uid and req.kind == "119"
        assert base64.b64decode(req.document.data_b64) == doc.content
        assert [s.signature.data_b64 for s in req.personal_signs] == \
               [s.signature.data_b64 for s in doc.request.personal_signs]
        assert requests.get(f"{srv.url}/documents/no-such-uid", timeout=10).status_code == 404

        seen = len(sink.results)
        answer = requests.post(f"{srv.url}/_admin/ui/systems/demo/test-callback", timeout=20)
        assert answer.status_code == 200 and 'id="test-status">200<' in answer.text
        sink.wait_count(seen + 1, timeout=10)
        assert sink.results[-1].status == "success" and sink.results[-1].kind == "119"
        sink.responses.append(503)
        failed = requests.post(f"{srv.url}/_admin/ui/systems/demo/test-callback", timeout=20)
        assert 'id="test-status">503<' in failed.text
    finally:
        srv.stop()


def test_cda_rendering_and_xml_lines():
    doc = generate("119", seed=8)
    html = str(render_cda(doc.content))
    patient = doc.world.patient
    assert f"{patient.family} {patient.given} {patient.patronymic}" in html
    assert f"СНИЛС {patient.snils}" in html or patient.snils in html
    assert 'class="cda-section"' in html and "<h4>" in html
    assert render_cda(b"<not-xml") is None
    english = str(render_cda(doc.content, "en"))
    assert f"SNILS {patient.snils}" in english
    assert re.findall("<dt>(.*?)</dt>", english) == ["Document date", "Patient", "Author", "Signed by", "Organisation"]
    assert "<dt>Дата документа</dt>" in html
    lines = xml_lines(b'<a x="1">\n<script>alert(1)</script>\n</a>', {2: ["CODE: bad"]})
    assert [ln.failing for ln in lines] == [False, True, False]
    assert "<script>" not in str(lines[1].html) and "&lt;" in str(lines[1].html)
    assert lines[1].notes == "CODE: bad"


@pytest.mark.parametrize(("value", "shown"), [
    ("202403151130+0300", "15.03.2024 11:30 UTC+3"),  # the official example: minutes and the zone
    ("20240315113005+0300", "15.03.2024 11:30:05 UTC+3"),
    ("202403151130+0530", "15.03.2024 11:30 UTC+5:30"),
    ("202403151130-0100", "15.03.2024 11:30 UTC-1"),
    ("20240315", "15.03.2024"),
])
def test_cda_document_date_says_its_zone(examples_dir, value, shown):
    """The readable document's date carries the zone like every other time on the page (issue 13)."""
    content = (examples_dir / "consultation-119-valid.xml").read_bytes().replace(
        b'<effectiveTime value="202403151130+0300"/>', f'<effectiveTime value="{value}"/>'.encode(), 1)
    dates = re.findall("<dt>Дата документа</dt>\\s*<dd>(.*?)</dd>", str(render_cda(content)))
    assert dates == [shown]


def test_validate_page_counts_a_defect_two_layers_found_once(make_app, packs_dir):
    """The header rules and the official Schematron both report the missing informationRecipient: the
    Validate page's verdict counts it as the command line does (report.merged_errors)."""
    import io

    from mock_remd.config import Settings
    from mock_remd.validation.pipeline import Validator

    doc = generate("119", seed=7, invalid="missing-information-recipient")
    report = Validator(Settings.load({"packs_dir": str(packs_dir), "validation": "xml,kind,header,xsd,schematron"},
                                     environ={}).validation_settings()).validate(doc.content, kind="119")
    assert len(report.merged_errors()) < len(report.errors)  # the same defect from two layers
    client = make_app(packs_dir=str(packs_dir), validation="xml,kind,header,xsd,schematron").admin.test_client()
    page = client.post("/validate", data={"document": (io.BytesIO(doc.content), "bad.xml"), "kind": "119"},
                       content_type="multipart/form-data")
    verdict = re.search(r'id="val-verdict" data-valid="false">([^<]*)<', page.text)
    assert verdict is not None, page.text[:2000]
    assert verdict.group(1).endswith(f"ошибок {len(report.merged_errors())}"), verdict.group(1)
