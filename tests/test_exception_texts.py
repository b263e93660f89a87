"""Bad input from outside gets catalogue sentences, never an exception's text, class name or a path.

Real inputs over real sockets: broken YAML scenarios uploaded to the admin API and through the dashboard's
form, malformed admin requests, malformed XML given to the dashboard's validator; the pytest plugin's
callback inbox explaining a timeout while the admin API is down; xmlschema's own errors turned into
Xerces-style findings. Each answer is checked with tests/exception_text.py and for paths of this machine.
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import pytest
import requests
from exception_text import assert_clean
from lxml import etree

from mock_remd.catalog.incidents import safe_text
from mock_remd.catalog.user_messages import MESSAGES, os_reason, say

REPO = str(Path(__file__).resolve().parent.parent)
#: where this machine keeps Python and our code: no answer names them
PATHS = (REPO, sys.prefix, "site-packages", "/usr/lib/python")


def assert_shows_nothing_inside(text: str | bytes, where: str) -> None:
    """No exception text (tests/exception_text.py) and no path of this machine in ``text``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    assert_clean(text, where)
    shown = [p for p in PATHS if p in text]
    assert not shown, f"{where} shows paths {shown}"


#: YAML scenarios broken in the ways people and tools break them
BROKEN_YAML = {
    "tab": b"name: t\n\trules: []\n",
    "unclosed quote": b"name: 'never closed\nrules: []\n",
    "python tag": b"name: !!python/object:os.system x\nrules: []\n",
    "not utf-8": b"name: \xff\xfe\nrules: []\n",
    "alias bomb": b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode() for i in range(8)),
    "wrong shape": b"name: x\nrules: 5\n",
    "two documents": b"name: a\nrules: []\n---\nname: b\n",
    "undefined alias": b"name: *nowhere\nrules: []\n",
}


@pytest.fixture(scope="module")
def server():
    from conftest import start_server

    srv = start_server([{"mnemonic": "demo", "client_entity_id": "demo-client", "callback_url": "http://127.0.0.1:9/cb",
                         "organizations": ["1.2.643.5.1.13.13.12.2.77.1"]}])
    yield srv
    srv.stop()


@pytest.mark.parametrize("name", sorted(BROKEN_YAML))
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_broken_yaml_scenario_is_refused_in_sentences(server, name, lang):
    body = BROKEN_YAML[name]
    resp = requests.post(server.url + "/_admin/scenarios", data=body, timeout=10,
                         headers={"Content-Type": "application/yaml", "Accept-Language": lang})
    assert resp.status_code == 400, resp.text
    answer = resp.json()
    assert set(answer) == {"error", "detail"}
    assert answer["error"] == say(lang, "scenario.invalid"), answer
    assert_shows_nothing_inside(resp.text, f"admin answer to the {name} scenario")
    # the dashboard's upload form: the same refusal on the scenarios page
    page = requests.post(server.url + "/_admin/ui/scenarios/upload", data={"source": body.decode("utf-8", "replace")},
                         cookies={"mock_remd_lang": lang}, timeout=10, allow_redirects=False)
    assert page.status_code == 400
    assert_shows_nothing_inside(page.text, f"dashboard page for the {name} scenario")


def test_activating_unknown_scenarios_on_the_dashboard_shows_the_catalogue_headline(server):
    page = requests.post(server.url + "/_admin/ui/scenarios/activate", data={"names": ["no-such-scenario"]},
                         timeout=10, allow_redirects=False)
    assert page.status_code == 400
    assert say("ru", "scenario.unknown") in page.text.replace("&#34;", '"').replace("&#39;", "'")
    assert_shows_nothing_inside(page.text, "dashboard activation refusal")


#: admin requests a script or a person gets wrong: (method, path, body, content type)
BAD_ADMIN_REQUESTS = [
    ("PUT", "/_admin/scenarios/active", b"{not json", "application/json"),
    ("PUT", "/_admin/scenarios/active", b'{"names": "x"}', "application/json"),
    ("PUT", "/_admin/scenarios/active", b'{"names": [1, {"a": []}, null]}', "application/json"),
    ("POST", "/_admin/conformance/runs", b"[]", "application/json"),
    ("POST", "/_admin/conformance/runs", b'{"system": "demo", "plan": "x", "step_timeout_s": "1e999"}',
     "application/json"),
    ("POST", "/_admin/conformance/runs", b"\xff\xfe garbage", "application/json"),
    ("PUT", "/_admin/systems/x", b"<xml/>", "application/xml"),
    ("PUT", "/_admin/systems/demo", b'{"callback_url": 5, "organizations": "x"}', "application/json"),
    ("GET", "/_admin/requests?offset=-99999999999999999999999", b"", ""),
    ("GET", "/_admin/requests?limit=1e9", b"", ""),
    ("GET", "/_admin/conformance/runs?state=%00nope", b"", ""),
    ("GET", "/_admin/documents/%00%ff", b"", ""),
    ("POST", "/_admin/callbacks/99999999999999999999/redeliver", b"", ""),
    ("DELETE", "/_admin/scenarios/..%2F..%2Fetc%2Fpasswd", b"", ""),
]


@pytest.mark.parametrize(("method", "path", "body", "ctype"), BAD_ADMIN_REQUESTS,
                         ids=[f"{m} {p[:40]} {b[:12]!r}" for m, p, b, _ in BAD_ADMIN_REQUESTS])
def test_bad_admin_requests_get_sentences(server, method, path, body, ctype):
    for lang in ("ru", "en"):
        headers = {"Accept-Language": lang, **({"Content-Type": ctype} if ctype else {})}
        resp = requests.request(method, server.url + path, data=body, headers=headers, timeout=10)
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
        answer = resp.json()
        assert set(answer) == {"error", "detail"} and answer["error"], answer
        assert_shows_nothing_inside(resp.text, f"admin answer to {method} {path}")


@pytest.mark.parametrize(("document", "request_xml"), [
    (b"<ClinicalDocument xmlns='urn:hl7-org:v3'><unclosed>", None),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>', None),
    (b"\xff\xfe<\x00d\x00/\x00>\x00", None),
    (b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>", b"<registerDocumentRequest><broken"),
    (b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>", b"<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>"),
])
def test_malformed_xml_given_to_the_dashboards_validator_gets_sentences(server, document, request_xml):
    files = {"document": ("doc.xml", document, "application/xml")}
    if request_xml is not None:
        files["request"] = ("request.xml", request_xml, "application/xml")
    page = requests.post(server.url + "/validate", files=files, timeout=30)
    assert page.status_code in (200, 400), page.status_code
    assert_shows_nothing_inside(page.text, "dashboard validation page")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_callback_inbox_explains_a_timeout_without_the_http_librarys_words():
    from mock_remd.client.admin_client import AdminClient
    from mock_remd.client.sink import CallbackSink
    from mock_remd.testing.handle import CallbackInbox

    port = _closed_port()
    sink = CallbackSink().start()
    try:
        inbox = CallbackInbox(sink, admin=AdminClient(f"http://127.0.0.1:{port}", timeout=2))
        with pytest.raises(TimeoutError) as caught:
            inbox.wait_for("urn:uuid:6a1c7e1e-0000-4000-8000-000000000001", timeout=0.2)
    finally:
        sink.stop()
    text = str(caught.value)
    assert text.startswith("no callback for urn:uuid:6a1c7e1e-0000-4000-8000-000000000001 within 0.2 s (0 received). ")
    assert f"(admin API not reachable to explain: the server at 127.0.0.1:{port} refused the connection)" in text
    assert_shows_nothing_inside(text, "the inbox's timeout")


def test_the_callback_inbox_quotes_the_admin_apis_sentence_when_it_refuses(make_server):
    from mock_remd.client.admin_client import AdminClient, AdminError
    from mock_remd.client.sink import CallbackSink
    from mock_remd.testing.handle import CallbackInbox

    srv = make_server(admin_token="s3cret")  # the inbox's client has no token: the admin API answers 401
    sink = CallbackSink().start()
    try:
        admin = AdminClient(srv.url, timeout=5)
        with pytest.raises(AdminError) as refused:
            admin.requests(message_id="x")
        inbox = CallbackInbox(sink, admin=admin)
        with pytest.raises(TimeoutError) as caught:
            inbox.wait_for("urn:uuid:6a1c7e1e-0000-4000-8000-000000000002", timeout=0.1)
    finally:
        sink.stop()
    said = refused.value.sentence.replace("/_admin/requests", "/_admin/callbacks")  # the inbox asks for callbacks first
    assert f"(admin API refused to explain: {said})" in str(caught.value)
    assert_shows_nothing_inside(str(caught.value), "the inbox's timeout")


def test_safe_text_shows_only_sentences_our_exceptions_carry():
    from mock_remd.config import ConfigError
    from mock_remd.validation.schematron.runner import SchematronRunError

    # an exception of ours that carries no catalogue sentence may wrap a library's words: the fallback
    wrapped = SchematronRunError("lxml.etree.XPathEvalError: Invalid expression at /usr/lib/python3/x.py")
    assert safe_text(wrapped, "не прочитано") == "не прочитано"
    # one that renders itself: its sentence in the language asked for
    bad = ConfigError("config.not_port", "--port", "x")
    assert safe_text(bad, "?", lang="en") == bad.text("en") == "--port x: not a TCP port (1–65535)"
    assert safe_text(bad, "?") == bad.text("ru")


def test_a_file_error_without_the_systems_words_is_a_catalogue_sentence():
    assert os_reason("ru", OSError()) == MESSAGES["file.io_error"][0]
    assert os_reason("en", OSError()) == MESSAGES["file.io_error"][1]
    assert os_reason("en", FileNotFoundError(2, "No such file or directory", "/x")) == "No such file or directory"


def test_xmlschema_errors_become_xerces_sentences_without_schema_objects(tmp_path):
    xmlschema = pytest.importorskip("xmlschema")
    from mock_remd.validation.xsd_messages import from_xmlschema

    xsd = tmp_path / "s.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t" '
        'elementFormDefault="qualified"><xs:element name="root"><xs:complexType><xs:sequence>'
        '<xs:element name="a" type="xs:int"/><xs:any namespace="##other" processContents="lax"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:schema>", encoding="utf-8")
    schema = xmlschema.XMLSchema(str(xsd))
    findings = []
    for doc in (b'<root xmlns="urn:t"><a>1</a></root>', b'<root xmlns="urn:t"><a>x</a><b/></root>'):
        for error in schema.iter_errors(etree.fromstring(doc)):
            findings += from_xmlschema(error)
    assert findings
    for f in findings:
        assert "Xsd" not in f.message and "XMLSchema" not in f.message and "\n" not in f.message, f.message
        assert_shows_nothing_inside(f.message, "an XSD finding")
    assert any("WC[##other]" in f.message for f in findings), [f.message for f in findings]


def test_libxml2s_complaint_about_a_published_pack_names_the_file_within_the_pack(published_packs_dir):
    from mock_remd.validation.packs import load_schema

    schema = load_schema(published_packs_dir / "106" / "CDA.xsd")
    # the line is in an included file: the complaint says which, relative to the pack
    assert schema.refused == ("complex type 'PQR': The content model is not determinist. "
                              "(coreschemas/datatypes-base.xsd, line 1668)")
    assert str(published_packs_dir) not in str(schema.describe())


#: the before-stop hook's pattern: a message built from an exception's text
_FROM_EXCEPTION = re.compile(r'(f"[^"]*\{(exc|e|err|error|ex)(!r|!s)?\}|str\((exc|e|err|error|ex)\))')
_LOGGED = re.compile(r"log(ger)?\.(debug|info|warning|error|exception)")
#: the places that may use an exception's text, and why none of it reaches a user
_ALLOWED = {
    # a failure's kind read from its text (and class names), never shown: the sentence comes from the kind
    ("mock_remd/catalog/user_messages.py", 'text = " ".join(str(e) for e in chain).lower()'),
    ("mock_remd/catalog/user_messages.py", 'text = " ".join(str(e) for e in _chain(exc)).lower()'),
    ("mock_remd/catalog/incidents.py", "text = str(exc)"),
    # printed with --verbose only
    ("mock_remd/cli/common.py", 'print(f"  {type(exc).__name__}: {exc}", file=sys.stderr)'),
    ("mock_remd/cli/cmd_send.py", 'print(f"  {type(exc).__name__}: {exc}", file=sys.stderr)'),
}


def test_no_message_is_built_from_an_exceptions_text():
    found = set()
    for path in sorted(Path(REPO, "mock_remd").rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if _FROM_EXCEPTION.search(line) and not _LOGGED.search(line):
                found.add((path.relative_to(REPO).as_posix(), line.strip()))
    assert found <= _ALLOWED, f"messages built from an exception's text: {sorted(found - _ALLOWED)}"
    assert found == _ALLOWED, f"no longer there (take them off the list): {sorted(_ALLOWED - found)}"
