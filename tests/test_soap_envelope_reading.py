"""Reading an envelope's parts (soap/envelope.py ``_envelope``): the first Header and Body of the envelope's
own SOAP namespace, the first element in the Body, the WS-Addressing MessageID and the transport header's
clientEntityId, whatever comments, processing instructions and repeated elements surround them."""

from __future__ import annotations

import pytest

from mock_remd.namespaces import SOAP11, SOAP12
from mock_remd.soap.envelope import parse_envelope
from mock_remd.soap.faults import SoapFault

LIMIT = 1024 * 1024
WSA = "http://www.w3.org/2005/08/addressing"


def _env(ns: str, header: str, body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{ns}" xmlns:a="{WSA}" '
            f'xmlns:e="http://egisz.rosminzdrav.ru"><!-- c --><?pi x?>{header}{body}</s:Envelope>').encode()


@pytest.mark.parametrize("ns", [SOAP11, SOAP12])
def test_odd_but_valid_envelopes_are_read_part_by_part(ns):
    header = ("<s:Header><!-- before --><?pi?><x:Other xmlns:x='urn:x'><a:MessageID>not this</a:MessageID></x:Other>"
              "<a:MessageID> urn:uuid:1 <!-- in --> </a:MessageID><a:MessageID>second</a:MessageID>"
              "<e:transportHeader><e:authInfo><!-- c --><e:clientEntityId>client-1</e:clientEntityId>"
              "<e:clientEntityId>client-2</e:clientEntityId></e:authInfo></e:transportHeader></s:Header>"
              "<s:Header><a:MessageID>other header</a:MessageID></s:Header>")
    body = ("<s:Body><!-- c --><?pi?><op:registerDocumentRequest xmlns:op='urn:op'/><op:second xmlns:op='urn:op'/>"
            "</s:Body><s:Body><op:third xmlns:op='urn:op'/></s:Body>")
    env = parse_envelope(_env(ns, header, body), max_bytes=LIMIT)
    assert env.version == ("1.1" if ns == SOAP11 else "1.2")
    assert env.operation == "registerDocumentRequest"
    assert env.body.tag == "{urn:op}registerDocumentRequest"
    # the last MessageID of the first Header wins (each one read in turn), as before
    assert env.message_id == "second"
    assert env.client_entity_id == "client-1"
    assert env.header is not None and env.header is env.root[2]


def test_a_header_and_body_of_the_other_soap_version_are_not_this_envelopes():
    other = f"<o:Header xmlns:o='{SOAP11}'/><o:Body xmlns:o='{SOAP11}'><x/></o:Body>"
    with pytest.raises(SoapFault) as caught:
        parse_envelope(_env(SOAP12, "", other), max_bytes=LIMIT)
    assert caught.value.key == "no_body"


@pytest.mark.parametrize(("header", "body", "code"), [
    ("", "", "no_body"),
    ("", "<s:Body><!-- only a comment --></s:Body>", "empty_body"),
])
def test_missing_parts_are_refused(header, body, code):
    with pytest.raises(SoapFault) as caught:
        parse_envelope(_env(SOAP12, header, body), max_bytes=LIMIT)
    assert caught.value.key == code
