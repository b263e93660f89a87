"""One description of each SOAP message (mock_remd/domain/messages.py): the served WSDL as zeep reads it,
the builders (ours and the callback's), the parsers (ours, the callback sink's, the getDocumentFile
reader) all agree with it field by field — names, order, required or optional, nesting and lists."""

from __future__ import annotations

import dataclasses
import zlib

import pytest
from lxml import etree
from remd_requests import DEMO_CLIENT

from mock_remd.catalog.errors import ErrorItem
from mock_remd.client.sink import CallbackSink, parse_callback
from mock_remd.delivery import pull
from mock_remd.delivery.callback_xml import result_envelope
from mock_remd.domain import messages as M
from mock_remd.domain.messages import Message
from mock_remd.domain.model import RegisterRequest
from mock_remd.namespaces import CALLBACK, SERVICE
from mock_remd.soap import responses
from mock_remd.soap.builders import get_item_envelope, register_envelope, search_envelope
from mock_remd.soap.operations import find_register_request, parse_get_item, parse_register, parse_search
from mock_remd.xmlsafe import local_name


def filled(message: Message, prefix: str = "v") -> object:
    """An instance of ``message.model`` with every element given (text ``prefix.name``, two list members)."""
    values = {}
    for e in message.elements:
        if e.type is None:
            values[e.attr] = f"{prefix}.{e.name}"
        elif e.item:
            values[e.attr] = [filled(e.type, f"{prefix}.{e.name}{i}") for i in (1, 2)]
        else:
            values[e.attr] = filled(e.type, f"{prefix}.{e.name}")
    assert message.model is not None
    return message.model(**values)


def children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def assert_fits(el: etree._Element, message: Message, path: str = "", namespace: str = "") -> None:
    """Every child of ``el`` is declared by ``message``, in the declared order, lists with their members,
    in the namespace of the whole message; every required element is there."""
    path = path or message.name
    namespace = namespace or message.namespace
    names = [local_name(c) for c in children(el)]
    for c in children(el):
        assert etree.QName(c).namespace == namespace, f"{path}/{local_name(c)}: namespace"
    assert [n for n in names if n not in message.names] == [], f"{path}: undeclared elements"
    order = [message.names.index(n) for n in names]
    assert order == sorted(order), f"{path}: {names} not in the declared order {message.names}"
    for e in message.elements:
        if e.required:
            assert e.name in names, f"{path}/{e.name} is required"
    for c in children(el):
        e = message.element(local_name(c))
        if e.type is None:
            assert not children(c), f"{path}/{e.name} is text"
        elif e.item:
            for member in children(c):
                assert local_name(member) == e.item, f"{path}/{e.name}: member {local_name(member)}"
                assert_fits(member, e.type, f"{path}/{e.name}/{e.item}", namespace)
        else:
            assert_fits(c, e.type, f"{path}/{e.name}", namespace)


def body_of(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    body = next(el for el in root.iter() if isinstance(el.tag, str) and local_name(el) == "Body")
    return children(body)[0]


# ---- the registry's three operations ----------------------------------------------------------------
def test_register_request_builder_and_parser_follow_the_declaration():
    req = filled(M.REGISTER_REQUEST)
    assert isinstance(req, RegisterRequest)
    req.message_id, req.client_entity_id = "urn:uuid:1", DEMO_CLIENT
    op = find_register_request(etree.fromstring(register_envelope(req)))
    assert op is not None and local_name(op) == M.REGISTER_REQUEST.name
    assert_fits(op, M.REGISTER_REQUEST)
    assert [local_name(c) for c in children(op)] == list(M.REGISTER_REQUEST.names)  # every element written
    back = parse_register(op, message_id=req.message_id, client_entity_id=req.client_entity_id)
    assert back.present == set(M.REGISTER_REQUEST.names)
    back.present = set()
    assert back == req  # every declared field read back into its attribute


def test_search_and_get_item_requests_follow_the_declaration():
    criteria = {e.name: f"v.{e.name}" for e in M.SEARCH_REQUEST.elements}
    op = body_of(search_envelope(criteria, client_entity_id=DEMO_CLIENT))
    assert local_name(op) == M.SEARCH_REQUEST.name
    assert_fits(op, M.SEARCH_REQUEST)
    assert dataclasses.asdict(parse_search(op)) == {e.attr: f"v.{e.name}" for e in M.SEARCH_REQUEST.elements}
    op = body_of(get_item_envelope("1.50.26.11.1", client_entity_id=DEMO_CLIENT))
    assert local_name(op) == M.GET_ITEM_REQUEST.name
    assert_fits(op, M.GET_ITEM_REQUEST)
    assert parse_get_item(op) == "1.50.26.11.1"


ITEM = {e.name: f"v.{e.name}" for e in M.REGISTRY_ITEM.elements}
ERRORS = [ErrorItem("VALIDATION_ERROR", "текст"), ErrorItem("RATE_LIMIT", "ещё")]


def answers() -> list[tuple[Message, bytes]]:
    return [
        (M.REGISTER_RESPONSE, responses.register_response("1.2", "error", ERRORS, "x")[1]),
        (M.SEARCH_RESPONSE, responses.search_response("1.2", "success", [ITEM, ITEM], [], "x")[1]),
        (M.SEARCH_RESPONSE, responses.search_response("1.1", "error", [], ERRORS, "x")[1]),
        (M.GET_ITEM_RESPONSE, responses.get_item_response("1.2", "success", ITEM, [], "x")[1]),
        (M.GET_ITEM_RESPONSE, responses.get_item_response("1.2", "error", None, ERRORS, "x")[1]),
    ]


def test_answers_follow_the_declaration():
    for message, envelope in answers():
        op = body_of(envelope)
        assert local_name(op) == message.name
        assert_fits(op, message)


zeep = pytest.importorskip("zeep")


@pytest.fixture
def served_wsdl(make_server, tmp_path):
    """zeep's reading of the WSDL a running server serves."""
    import requests
    from zeep import Client, Settings

    srv = make_server()
    path = tmp_path / "emdr.wsdl"
    path.write_bytes(requests.get(srv.soap_url + "?wsdl", timeout=10).content)
    return Client(str(path), settings=Settings(strict=False))


def assert_zeep_type(ztype, message: Message, path: str) -> None:
    """zeep's complex type has exactly the declared elements, in order, with their occurrences."""
    elements = list(ztype.elements)
    assert [n for n, _ in elements] == list(message.names), path
    for (name, zel), e in zip(elements, message.elements, strict=True):
        where = f"{path}/{name}"
        assert zel.min_occurs == (1 if e.required else 0) and zel.max_occurs == 1, where
        if e.type is None:
            assert zel.type.name == "string", where
        elif e.item:
            (member_name, member), = list(zel.type.elements)
            assert member_name == e.item and member.max_occurs == "unbounded", where
            assert member.type.name == e.type.name, where
            assert_zeep_type(member.type, e.type, f"{where}/{e.item}")
        else:
            assert zel.type.name == e.type.name, where
            assert_zeep_type(zel.type, e.type, where)


def test_the_served_wsdl_is_the_declaration(served_wsdl):
    operations = served_wsdl.wsdl.bindings[next(iter(served_wsdl.wsdl.bindings))]._operations
    assert set(operations) == set(M.OPERATIONS)
    for name, (request, response) in M.OPERATIONS.items():
        assert operations[name].input.body.qname == etree.QName(SERVICE, request.name), name
        assert operations[name].output.body.qname == etree.QName(SERVICE, response.name), name
        for message in (request, response):
            element = served_wsdl.get_element(f"{{{SERVICE}}}{message.name}")
            assert_zeep_type(element.type, message, message.name)


def test_zeep_reads_our_answers_with_the_served_wsdl(served_wsdl):
    for message, envelope in answers():
        read = served_wsdl.get_element(f"{{{SERVICE}}}{message.name}").parse(body_of(envelope), served_wsdl.wsdl.types)
        assert read.status in ("success", "error")
        if read.errors is not None:
            assert [(i.code, i.message) for i in read.errors.item] == [(e.code, e.message) for e in ERRORS]
        if message is M.SEARCH_RESPONSE and read.matches is not None:
            assert [getattr(read.matches.item[0], k) for k in ITEM] == list(ITEM.values())
        if message is M.GET_ITEM_RESPONSE and read.item is not None:
            assert [getattr(read.item, k) for k in ITEM] == list(ITEM.values())


def test_zeep_writes_a_register_request_our_parser_reads_in_full(served_wsdl):
    req = filled(M.REGISTER_REQUEST)
    factory = served_wsdl.get_element(f"{{{SERVICE}}}{M.REGISTER_REQUEST.name}")

    def plain(message: Message, obj: object) -> dict:
        out = {}
        for e in message.elements:
            v = getattr(obj, e.attr)
            out[e.name] = (v if e.type is None else
                           {e.item: [plain(e.type, m) for m in v]} if e.item else plain(e.type, v))
        return out

    node = etree.Element("body")
    factory.render(node, factory(**plain(M.REGISTER_REQUEST, req)))
    op = children(node)[0]
    assert_fits(op, M.REGISTER_REQUEST)
    back = parse_register(op)
    back.present = set()
    assert back == req


# ---- the MIS's services: the result callback and getDocumentFile ---------------------------------------
OUTCOMES = [
    {"status": "success", "local_uid": "u1", "stage": "regional", "kind": "119", "organization": "1.2.3",
     "emdr_id": "1.50.26.11.000000001", "registration_date_time": "2026-12-06T12:00:00+03:00",
     "store_till_date": "2126-12-06"},
    {"status": "error", "local_uid": "u2", "kind": "119", "organization": "1.2.3", "emdr_id": "ignored",
     "errors": [{"code": "VALIDATION_ERROR", "message": "текст"}, {"code": "RATE_LIMIT", "message": "ещё"}]},
]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("outcome", OUTCOMES, ids=["success", "error"])
def test_the_callback_follows_the_declaration_and_the_sink_reads_it(outcome, version):
    envelope = result_envelope(outcome, relates_to="urn:uuid:ABC", to="http://mis/cb", version=version)
    op = body_of(envelope)
    assert local_name(op) == M.REGISTER_RESULT.name
    assert_fits(op, M.REGISTER_RESULT)
    read = parse_callback(envelope)
    success = outcome["status"] == "success"
    for e in M.REGISTER_RESULT.elements:
        if e.item:
            assert read.errors == outcome.get("errors", []), e.name
        elif e.name == "relatesToMessage":
            assert read.relates_to == "ABC"
        elif e.name in ("emdrId", "registrationDateTime", "storeTillDate") and not success:
            assert getattr(read, e.attr) == "", e.name
        else:
            assert getattr(read, e.attr) == outcome.get(e.attr, ""), e.name


def test_get_document_file_both_ways_follows_the_declaration():
    op = body_of(pull.request_envelope("loc-1", "http://mis/doc"))
    assert local_name(op) == M.GET_DOCUMENT_FILE_REQUEST.name and etree.QName(op).namespace == CALLBACK
    assert_fits(op, M.GET_DOCUMENT_FILE_REQUEST)
    content = b"<ClinicalDocument/>"
    with CallbackSink() as sink:
        sink.documents["loc-1"] = content
        result = pull.pull_document(sink.document_url, "loc-1", timeout=5, max_bytes=1 << 20)
        assert result.content == content and not result.errors
        assert sink.document_requests == ["loc-1"]
        import requests

        answer = requests.post(sink.document_url, data=pull.request_envelope("loc-1", sink.document_url),
                               headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=5).content
    op = body_of(answer)
    assert local_name(op) == M.GET_DOCUMENT_FILE_RESPONSE.name
    assert_fits(op, M.GET_DOCUMENT_FILE_RESPONSE)
    document = op.find(f"{{{CALLBACK}}}document")
    assert document.findtext(f"{{{CALLBACK}}}checksum") == str(zlib.crc32(content) & 0xFFFFFFFF)


def test_the_dashboard_rebuilds_a_stored_request_from_the_declaration():
    """The store keeps a request as ``as_plain`` (document bytes apart, as content); the dashboard's
    request.xml rebuilds it through the declaration: every declared element comes back, the document
    data from the content."""
    from mock_remd.admin.dashboard.story import request_from_plain
    from mock_remd.soap.builders import attachment

    req = filled(M.REGISTER_REQUEST)
    assert isinstance(req, RegisterRequest)
    req.message_id, req.client_entity_id, req.present = "m-1", DEMO_CLIENT, {"localUid", "kind"}
    stored = req.as_plain()
    assert M.register_request_from_plain(stored) == req
    stored["document"]["data_b64"] = ""  # as core/registry.py stores it
    content = b"<ClinicalDocument/>"
    rebuilt = request_from_plain(stored, content)
    assert rebuilt.document == dataclasses.replace(req.document, data_b64=attachment(content).data_b64)
    rebuilt.document = req.document
    assert rebuilt == req
    # a part the request left out stays left out
    sparse = RegisterRequest(local_uid="u", kind="119")
    assert M.register_request_from_plain(sparse.as_plain()) == sparse


def test_text_of_is_the_whole_text_content():
    """text_of reads a childless element's text directly; the result is the stripped itertext join for
    text, CDATA, character references, comments and processing instructions alike."""
    from lxml import etree

    from mock_remd.xmlsafe import text_of

    for xml in ["<a> x </a>", "<a/>", "<a>x<!--c-->y</a>", "<a><b>1</b> 2 </a>", "<a><![CDATA[ q ]]></a>",
                "<a>&#32;z&#10;</a>", "<a><?pi x?>t</a>", "<a>\u00a0ж\u00a0</a>"]:
        el = etree.fromstring(xml)
        assert text_of(el) == "".join(el.itertext()).strip(), xml
    assert text_of(None) == ""


def test_answer_message_id_is_a_random_v4_uuid():
    """An answer's wsa:MessageID is a fresh version 4 UUID (domain/ids.py; tests/test_message_ids.py)."""
    import uuid

    from mock_remd.soap.responses import register_response

    bodies = [register_response("1.2", "success", [], "urn:uuid:x")[1] for _ in range(2)]
    ids = [uuid.UUID(body.split(b"<wsa:MessageID>urn:uuid:")[1][:36].decode()) for body in bodies]
    assert all(u.version == 4 for u in ids) and ids[0] != ids[1]
