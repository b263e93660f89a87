"""Every SOAP Fault the endpoint answers with comes from the Fault catalogue (mock_remd/catalog/faults.py).

Read from the source: no Fault is built from a literal reason anywhere, every catalogue key a Fault names
exists and is given exactly the values its template names. Seen from outside: bad requests sent over a
real socket by the standard library's HTTP client and by zeep get Faults whose reasons are catalogue
templates filled in (byte-identical to the texts MIS clients were already pinned to), free of exception text.
"""

from __future__ import annotations

import ast
import http.client
import re
import string
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from exception_text import assert_clean
from remd_requests import register_request

from mock_remd.catalog.faults import FAULTS, fault_text
from mock_remd.catalog.user_messages import MESSAGES
from mock_remd.namespaces import SOAP11, SOAP12
from mock_remd.soap.builders import envelope, register_envelope
from mock_remd.soap.faults import SoapFault, render_fault

ROOT = Path(__file__).resolve().parent.parent / "mock_remd"
CYRILLIC = re.compile("[А-Яа-яЁё]")


def _sources() -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(ROOT.parent)), ast.parse(p.read_bytes())) for p in sorted(ROOT.rglob("*.py"))]


def _calls(tree: ast.AST, name: str):
    """Calls of ``name`` (``SoapFault``) or of an attribute ``name`` (``SoapFault.of``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name):
                yield node


def _is_literal_text(node: ast.AST) -> bool:
    """A reason written in the code: a string constant, an f-string, or text glued to one."""
    if isinstance(node, (ast.Constant, ast.JoinedStr)):
        return isinstance(node, ast.JoinedStr) or isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    return False


def test_no_fault_is_built_from_a_literal():
    direct, configured = [], []
    for where, tree in _sources():
        for call in _calls(tree, "SoapFault"):
            if where != "mock_remd/soap/faults.py":
                direct.append(f"{where}:{call.lineno}")
        for call in _calls(tree, "configured"):
            reason = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "reason"), None)
            if reason is None or _is_literal_text(reason):
                configured.append(f"{where}:{call.lineno}")
    assert not direct, f"SoapFault(...) outside soap/faults.py (use SoapFault.of with a catalogue key): {direct}"
    assert not configured, f"SoapFault.configured with a reason written in the code: {configured}"


def test_every_catalogue_fault_named_in_the_code_exists_and_gets_its_values():
    named, dynamic, problems = set(), [], []
    for where, tree in _sources():
        if where in ("mock_remd/catalog/faults.py", "mock_remd/soap/faults.py"):  # where they are defined
            continue
        for fn in ("of", "fault_text"):
            for call in _calls(tree, fn):
                if fn == "of" and not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
                                       and call.func.value.id == "SoapFault"):
                    continue
                if not call.args:
                    problems.append(f"{where}:{call.lineno}: no key")
                    continue
                key = call.args[0]
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    dynamic.append(where)
                    continue
                given = {k.arg for k in call.keywords}
                if key.value not in FAULTS:
                    problems.append(f"{where}:{call.lineno}: unknown fault {key.value!r}")
                elif None in given or given != FAULTS[key.value].fields:
                    problems.append(f"{where}:{call.lineno}: {key.value} takes {sorted(FAULTS[key.value].fields)}, "
                                    f"given {sorted(str(g) for g in given)}")
                named.add(key.value)
    assert not problems, problems
    # the one key chosen at run time: the HTTP front's refusals (a status -> key table without values)
    assert dynamic == ["mock_remd/server/buffering_worker.py"], dynamic
    from mock_remd.server.buffering_worker import _REFUSALS

    for key in _REFUSALS.values():
        assert key in FAULTS and not FAULTS[key].fields, key
        assert f"http.{key}" in MESSAGES, key
    unused = set(FAULTS) - named - set(_REFUSALS.values())
    assert not unused, f"catalogue Faults no code answers with: {sorted(unused)}"


def test_the_protocol_layer_writes_no_sentence_of_its_own():
    """Russian text in soap/ is only in docstrings and comments: every sentence a client reads is a template."""
    found = []
    for where, tree in _sources():
        if not where.startswith("mock_remd/soap/"):
            continue
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and CYRILLIC.search(node.value):
                found.append(f"{where}:{node.lineno}: {node.value[:40]}")
    assert not found, found


@pytest.mark.parametrize("key", sorted(FAULTS))
def test_every_catalogue_fault_renders_as_a_fault_the_standard_library_reads(key):
    template = FAULTS[key]
    values = {name: f"<{name}&>" for name in template.fields}  # markup in a value stays text
    fault = SoapFault.of(key, **values)
    assert (fault.key, fault.code) == (key, template.code)
    assert fault.http_status == (template.http_status or (400 if template.code.startswith("Client") else 500))
    for version, ns in (("1.1", SOAP11), ("1.2", SOAP12)):
        status, ctype, body = render_fault(fault, version)
        root = ET.fromstring(body)
        reason = root.findtext(f"{{{ns}}}Body/{{{ns}}}Fault/faultstring" if version == "1.1"
                               else f"{{{ns}}}Body/{{{ns}}}Fault/{{{ns}}}Reason/{{{ns}}}Text")
        assert reason == fault.reason and status == fault.http_status
    with pytest.raises(KeyError):
        fault_text(key) if template.fields else fault_text("no-such-fault")
    with pytest.raises(TypeError):
        fault_text(key, **values, surplus=1)


# ---- from outside: a real socket, the standard library's client and zeep --------------------------------------

def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regex: each field matches any text."""
    out = ""
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out += re.escape(literal) + (".*?" if name else "")
    return re.compile(out, re.DOTALL)


def _exchange(url: str, method: str, body: bytes | None, headers: dict[str, str], chunked: bool = False):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, parts.path, body=body, headers=headers, encode_chunked=chunked)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _fault_of(body: bytes) -> tuple[str, str]:
    """(code as Client.X / Server.X, reason) of a SOAP 1.1 or 1.2 Fault, read with xml.etree."""
    root = ET.fromstring(body)
    fault11 = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    if fault11 is not None:
        code = fault11.findtext("faultcode").split(":", 1)[1]
        return code, fault11.findtext("faultstring")
    fault = root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    value = fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value").split(":", 1)[1]
    sub = fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value") or ""
    code = {"Sender": "Client", "Receiver": "Server"}[value] + ("." + sub.split(":", 1)[1] if sub else "")
    return code, fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")


SOAP12_CT = {"Content-Type": "application/soap+xml; charset=utf-8"}
SOAP11_CT = {"Content-Type": "text/xml; charset=utf-8"}
ENV12 = "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'>{}</s:Envelope>"

#: (what is sent, key of the Fault expected, the reason exactly as clients read it before the catalogue)
CASES = [
    ("PUT", b"x", SOAP12_CT, "method_not_allowed",
     "Метод HTTP PUT не поддерживается: ожидается POST (или GET ?wsdl)"),
    ("POST", b"   ", SOAP12_CT, "empty_request", "Пустой запрос: ожидается SOAP-конверт"),
    ("POST", b"this is not xml at all", SOAP11_CT, "malformed_xml",
     "Запрос не является корректным XML: документ не начинается с элемента (строка 1)"),
    ("POST", b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><e>&x;</e>', SOAP12_CT,
     "unsafe_xml", "Недопустимый XML: объявления DOCTYPE не допускаются"),
    ("POST", b"<registerDocumentRequest/>", SOAP12_CT, "not_envelope",
     "Корневой элемент {}registerDocumentRequest не является SOAP-конвертом (Envelope 1.1 или 1.2)"),
    ("POST", ENV12.format("<s:Header/>").encode(), SOAP12_CT, "no_body", "В SOAP-конверте нет элемента Body"),
    ("POST", ENV12.format("<s:Body/>").encode(), SOAP12_CT, "empty_body", "Элемент Body не содержит операции"),
    ("POST", envelope("<ser:demandContentRequest/>", client_entity_id="x"), SOAP12_CT, "unknown_operation",
     "Неизвестная операция demandContentRequest: ожидается одна из registerDocumentRequest, "
     "searchRegistryItemRequest, getRegistryItemRequest"),
    ("POST", envelope("<ser:getRegistryItemRequest/>", message_id="", client_entity_id="x"), SOAP12_CT,
     "missing_message_id", "Не указан обязательный заголовок wsa:MessageID"),
    ("POST", envelope("<ser:getRegistryItemRequest/>", message_id="m" * 200, client_entity_id="x"), SOAP12_CT,
     "message_id_too_long", f"Заголовок wsa:MessageID [{'m' * 64}…] длиннее 128 символов"),
    ("POST", b"<a>" + b"x" * 9000 + b"</a>", SOAP12_CT, "request_length_too_large",
     "Запрос размером 9007 байт превышает предел 8192 байт"),
]


@pytest.fixture(scope="module")
def small_server():
    from conftest import start_server

    srv = start_server([], max_request_bytes=8192)
    yield srv
    srv.stop()


@pytest.mark.parametrize(("method", "body", "headers", "key", "reason"), CASES, ids=[c[3] for c in CASES])
def test_bad_requests_get_catalogue_faults_over_a_real_socket(small_server, method, body, headers, key, reason):
    status, answer = _exchange(small_server.soap_url, method, body, headers)
    code, got = _fault_of(answer)
    assert got == reason  # byte-identical to the text MIS clients saw before
    assert code == FAULTS[key].code and _pattern(FAULTS[key].template).fullmatch(got)
    assert status == (FAULTS[key].http_status or 400)
    assert_clean(answer, f"Fault {key}")


def test_a_chunked_body_over_the_limit_gets_the_catalogue_fault(small_server):
    status, answer = _exchange(small_server.soap_url, "POST", iter([b"<a>", b"x" * 9000, b"</a>"]), SOAP11_CT,
                               chunked=True)
    code, got = _fault_of(answer)
    assert (status, code, got) == (413, "Client.RequestTooLarge", "Запрос превышает предел 8192 байт")


def test_a_bad_magic_value_is_the_catalogue_fault_zeep_reads(make_server):
    zeep = pytest.importorskip("zeep")
    from zeep.wsa import WsAddressingPlugin

    srv = make_server()
    client = zeep.Client(srv.soap_url + "?wsdl", plugins=[WsAddressingPlugin()], settings=zeep.Settings(strict=False))
    req = register_request(document_number="MOCK:HTTP:999")
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.registerDocument(
            _soapheaders={"transportHeader": {"authInfo": {"clientEntityId": req.client_entity_id or "demo"}}},
            system="demo", localUid=req.local_uid, kind="119", creationDateTime=req.creation_date_time,
            organization=req.organization, documentNumber="MOCK:HTTP:999",
            document={"data": req.document.data_b64, "checksum": req.document.checksum})
    expected = ("VALIDATION_ERROR: Недопустимое значение [MOCK:HTTP:999] поля documentNumber: "
                "статус HTTP: ожидается целое число от 200 до 599")
    assert caught.value.message == expected
    assert _pattern(FAULTS["invalid_magic_value"].template).fullmatch(caught.value.message)
    # the same request by hand, SOAP 1.1: the standard library reads the same catalogue Fault
    status, answer = _exchange(srv.soap_url, "POST", register_envelope(req, version="1.1"), SOAP11_CT)
    assert (status, _fault_of(answer)) == (400, ("Client.InvalidMagicValue", expected))


@pytest.mark.parametrize(("status", "reason", "error"), [
    (400, "Запрос не разобран: нарушен протокол HTTP", "запрос не разобран: нарушен протокол HTTP"),
    (414, "Строка запроса HTTP слишком длинная", "строка запроса HTTP слишком длинная"),
    (431, "Заголовки запроса HTTP слишком велики", "заголовки запроса HTTP слишком велики"),
    (500, "Внутренняя ошибка", "внутренняя ошибка"),
    (501, "Кодирование Transfer-Encoding не поддерживается", "кодирование Transfer-Encoding не поддерживается"),
])
def test_the_http_fronts_refusals_are_catalogue_texts(status, reason, error):
    import json

    from mock_remd.server.buffering_worker import refusal

    head, _, body = refusal(status, "/port/emdr").partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert _fault_of(body) == ("Client.BadHttpRequest" if status < 500 else "Server.InternalError", reason)
    head, _, body = refusal(status, "/_admin/documents").partition(b"\r\n\r\n")
    assert json.loads(body) == {"error": error, "detail": None}


def test_a_fault_asked_for_by_a_magic_value_or_a_scenario_default_is_the_catalogue_sentence(make_server):
    from mock_remd.catalog.errors import message
    from mock_remd.domain.actions import DEFAULT_FAULT

    srv = make_server()
    req = register_request(document_number="MOCK:FAULT")
    status, answer = _exchange(srv.soap_url, "POST", register_envelope(req, version="1.2"), SOAP12_CT)
    assert (status, _fault_of(answer)) == (500, ("Server", message("INTERNAL_ERROR")))
    assert DEFAULT_FAULT["reason"] == message("INTERNAL_ERROR") == "Внутренняя ошибка"
