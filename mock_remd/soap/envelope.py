"""Reading a SOAP envelope: version, WS-Addressing and transport headers, the body element.

WS-Addressing headers are read from the raw header document (declaring them as spyne header
classes next to ``transportHeader`` breaks the WSDL). Everything is matched by local name, so any
prefix works, as real clients use many.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from mock_remd.namespaces import SOAP11, SOAP12
from mock_remd.soap.faults import SoapFault
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, describe_syntax_error, local_name, parse_bytes
from mock_remd.xmlsafe import text_of as _text


@dataclass
class Envelope:
    """The parts of an incoming request the registry looks at."""

    version: str
    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    operation: str
    message_id: str = ""
    client_entity_id: str = ""


#: WS-Addressing headers read as text → Envelope attribute
_WSA_FIELDS = {"MessageID": "message_id"}


def version_from_content_type(content_type: str | None) -> str | None:
    """``1.2`` for application/soap+xml, ``1.1`` for text/xml, else None."""
    ct = (content_type or "").lower()
    if "application/soap+xml" in ct:
        return "1.2"
    if "text/xml" in ct:
        return "1.1"
    return None


def parse_envelope(data: bytes, content_type: str | None = None, *, max_bytes: int) -> Envelope:
    """Parse a request body into an :class:`Envelope`; raises :class:`SoapFault` for bad input."""
    if not data.strip():
        raise SoapFault.of("empty_request")
    try:
        root = parse_bytes(data, max_bytes=max_bytes)
    except XmlTooLargeError as exc:
        raise SoapFault.of("xml_too_large", size=exc.size, limit=exc.limit) from exc
    except UnsafeXmlError as exc:  # a DTD or entities: the one thing xmlsafe refuses
        raise SoapFault.of("unsafe_xml") from exc
    except etree.XMLSyntaxError as exc:
        raise SoapFault.of("malformed_xml", problem=describe_syntax_error(exc)) from exc
    tag = root.tag  # "{namespace}local" (etree.QName made the same split for more)
    ns = tag[1:tag.index("}")] if tag[:1] == "{" else None
    if local_name(root) != "Envelope" or ns not in (SOAP11, SOAP12):
        raise SoapFault.of("not_envelope", namespace=ns or "", name=local_name(root))
    version = "1.1" if ns == SOAP11 else "1.2"  # the envelope decides, whatever the Content-Type said
    # the first child of each name (as find() would give, without its path machinery)
    header = next(root.iterchildren(f"{{{ns}}}Header"), None)
    body_el = next(root.iterchildren(f"{{{ns}}}Body"), None)
    if body_el is None:
        raise SoapFault.of("no_body")
    children = [c for c in body_el if isinstance(c.tag, str)]
    if not children:
        raise SoapFault.of("empty_body")
    op_el = children[0]
    env = Envelope(version=version, root=root, header=header, body=op_el, operation=local_name(op_el))
    if header is not None:
        for h in header:
            if not isinstance(h.tag, str):
                continue
            name = local_name(h)
            if name in _WSA_FIELDS:
                setattr(env, _WSA_FIELDS[name], _text(h))
            elif name == "transportHeader":
                for el in h.iter():
                    if isinstance(el.tag, str) and local_name(el) == "clientEntityId":
                        env.client_entity_id = _text(el)
                        break
    return env
