"""The inline document's base64 set aside before libxml2 parses the envelope (soap/envelope.py SetAside):
whatever the envelope, the request read is the one a whole parse reads, and every refusal is the same."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from conftest import SHARED
from remd_requests import register_request

from mock_remd.soap.app import SoapApp
from mock_remd.soap.builders import attachment, register_envelope
from mock_remd.soap.envelope import PLACEHOLDER, SET_ASIDE_BYTES, parse_envelope
from mock_remd.soap.faults import SoapFault
from mock_remd.soap.operations import parse_register

LIMIT = 64 * 1024 * 1024
OFFICIAL = SHARED / "examples" / "consultation-119-valid.xml"


def _content() -> bytes:
    """A document another toolchain made (the official example) when present, else ours; long enough."""
    content = OFFICIAL.read_bytes() if OFFICIAL.exists() else b"<x/>"
    while len(base64.b64encode(content)) < 2 * SET_ASIDE_BYTES:
        content += b"<!-- padding -->\n"
    return content


def _envelope(content: bytes, **overrides) -> bytes:
    req = dataclasses.replace(register_request(**overrides), document=attachment(content))
    return register_envelope(req, version="1.2")


def _read(body: bytes, *, aside: bool):
    """What SoapApp reads: the envelope and its registerDocument request."""
    env = parse_envelope(body, "application/soap+xml", max_bytes=LIMIT, set_aside=aside)
    if env.set_aside is not None:
        env = SoapApp(None, max_request_bytes=LIMIT)._put_back(env, body, "application/soap+xml")  # type: ignore[arg-type]
    req = env.request or parse_register(env.body, message_id=env.message_id, client_entity_id=env.client_entity_id)
    return env, req


def _same(body: bytes) -> bool:
    """Both ways read the same request; True when the document was set aside."""
    whole_env, whole = _read(body, aside=False)
    env, req = _read(body, aside=True)
    assert req == whole and req.as_plain() == whole.as_plain()
    assert (env.message_id, env.client_entity_id, env.operation, env.version) == (
        whole_env.message_id, whole_env.client_entity_id, whole_env.operation, whole_env.version)
    if env.set_aside is not None:
        assert req.document.decoded == base64.b64decode(whole.document.data_b64)
    assert PLACEHOLDER not in repr(req) or PLACEHOLDER.encode() in body  # never left in place of the text
    return env.set_aside is not None


def test_an_unbroken_base64_document_is_set_aside_and_read_the_same():
    assert _same(_envelope(_content()))


def test_a_short_document_is_parsed_whole():
    assert not _same(_envelope(b"<x/>"))


@pytest.mark.parametrize("change", [
    pytest.param(lambda b64: base64.encodebytes(base64.b64decode(b64)).replace(b"\n", b"\r\n"), id="crlf-lines"),
    pytest.param(lambda b64: b64[:100] + b"&#65;" + b64[105:], id="character-reference"),
    pytest.param(lambda b64: b64[:100] + b" " + b64[100:], id="space"),
    pytest.param(lambda b64: b64[:-8] + b"!!!!!!!!", id="not-base64"),
])
def test_a_text_xml_reads_differently_from_its_bytes_is_parsed_whole(change):
    content = _content()
    b64 = base64.b64encode(content)
    body = _envelope(content).replace(b64, change(b64))
    assert not _same(body)


def test_the_placeholder_anywhere_in_the_envelope_means_a_whole_parse():
    assert not _same(_envelope(_content(), document_number=PLACEHOLDER))


def test_a_long_data_text_that_is_not_the_documents_is_read_whole():
    content = _content()
    body = _envelope(b"<x/>")
    big = base64.b64encode(content)
    # a comment in the header holding a data element with a long text: the placeholder lands in the comment
    body = body.replace(b"<soap:Header>", b"<soap:Header><!-- <ser:data>" + big + b"</ser:data> -->", 1)
    assert not _same(body)
    # an element of its own (not registerDocument's document/data) with a long text
    body = _envelope(b"<x/>").replace(b"<soap:Header>", b"<soap:Header><x:data xmlns:x='urn:x'>" + big + b"</x:data>", 1)
    assert not _same(body)


def test_a_wsse_security_header_is_set_aside_like_any_other_unless_it_is_checked():
    """Real MIS requests carry wsse:Security: unchecked (the default) it changes nothing; checked, the
    endpoint parses whole (tests/test_endpoint_wsse.py: a valid signature over the Body still verifies)."""
    body = _envelope(_content()).replace(
        b"<soap:Header>", b"<soap:Header><wsse:Security xmlns:wsse='http://docs.oasis-open.org/wss/2004/01/"
                          b"oasis-200401-wss-wssecurity-secext-1.0.xsd'/>", 1)
    assert _same(body)
    env = parse_envelope(body, "application/soap+xml", max_bytes=LIMIT, set_aside=False)
    assert env.set_aside is None
    assert env.root.find(".//{*}document/{*}data").text == base64.b64encode(_content()).decode()


@pytest.mark.parametrize("breakage", [
    pytest.param((b"</ser:registerDocumentRequest>", b"</ser:registerDocumentReques>"), id="tag-mismatch"),
    pytest.param((b"</soap:Envelope>", b""), id="cut-short"),
    pytest.param((b"<soap:Body>", b"<soap:Body><undeclared:x/>"), id="undeclared-prefix"),
])
def test_a_broken_envelope_gets_the_refusal_of_a_whole_parse(breakage):
    body = _envelope(_content()).replace(*breakage, 1)
    faults = []
    for aside in (False, True):
        with pytest.raises(SoapFault) as caught:
            parse_envelope(body, "application/soap+xml", max_bytes=LIMIT, set_aside=aside)
        faults.append((caught.value.code, caught.value.reason))
    assert faults[0] == faults[1]
