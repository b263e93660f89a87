"""Reading a SOAP envelope: version, WS-Addressing and transport headers, the body element.

WS-Addressing headers are read from the raw header document (declaring them as spyne header
classes next to ``transportHeader`` breaks the WSDL). Everything is matched by local name, so any
prefix works, as real clients use many.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

import pybase64
from lxml import etree

from mock_remd.catalog.user_messages import xml_syntax
from mock_remd.domain.model import RegisterRequest
from mock_remd.namespaces import SOAP11, SOAP12
from mock_remd.soap.faults import SoapFault
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, local_name, parse_bytes
from mock_remd.xmlsafe import text_of as _text

#: a text at least this long after a ``data`` opening tag is set aside before libxml2 parses (see SetAside)
SET_ASIDE_BYTES = 8192
#: what libxml2 reads in its place (an envelope that holds this text anywhere is parsed whole)
PLACEHOLDER = "mock-remd-set-aside"
_PLACEHOLDER_BYTES = PLACEHOLDER.encode()
#: the opening tag before it: ``<data>`` or ``<prefix:data>``
_DATA_TAG = re.compile(rb"<(?:[A-Za-z_][A-Za-z0-9_.-]*:)?data>")


@dataclass
class SetAside:
    """The inline document's base64 (registerDocument's ``document/data``), taken out of the envelope
    before libxml2 parses it: libxml2 reads a text character by character and copies it into its tree,
    and lxml copies it again into a Python string (for the bench's 45 KB document ~10 % of the answer's
    instructions). It is set aside only when it is strict base64 (no line break, no entity, nothing XML
    reads differently from its bytes), and then decoded once, here. :meth:`put_back` gives the request
    its text; when the placeholder did not land in the request's ``document/data`` (a comment, another
    element …) the caller parses the whole envelope again."""

    #: where the text was in the envelope's bytes
    start: int
    end: int
    text: str
    decoded: bytes

    def put_back(self, req: RegisterRequest) -> bool:
        """Give ``req.document`` the text set aside (and its bytes); False when it does not hold the
        placeholder (then nothing is changed)."""
        doc = req.document
        if doc is None or doc.data_b64 != PLACEHOLDER:
            return False
        doc.data_b64 = self.text
        doc.decoded = self.decoded
        return True


def _set_aside(data: bytes) -> SetAside | None:
    """The longest text after a ``data`` opening tag when it is long, strict base64 and the envelope does
    not hold the placeholder; else None."""
    best_start = best_end = 0
    at = 0
    while (found := data.find(b"data>", at)) >= 0:
        start = found + 5
        end = data.find(b"<", start)
        if end < 0:
            break
        if end - start > best_end - best_start:
            best_start, best_end = start, end
        at = end
    if best_end - best_start < SET_ASIDE_BYTES:
        return None
    tag_start = data.rfind(b"<", 0, best_start)
    if (not _DATA_TAG.fullmatch(data, tag_start, best_start) or data.find(_PLACEHOLDER_BYTES, 0, best_start) >= 0
            or data.find(_PLACEHOLDER_BYTES, best_end) >= 0):  # (not in the text: base64 has no "-")
        return None
    run = memoryview(data)[best_start:best_end]
    try:  # only the base64 alphabet (no space, line break, & or ]]>): its text is its bytes
        decoded = pybase64.b64decode(run, validate=True)
    except (binascii.Error, ValueError):
        return None
    return SetAside(best_start, best_end, str(run, "ascii"), decoded)


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
    #: the document's base64 taken out before parsing (see :class:`SetAside`), None when parsed whole
    set_aside: SetAside | None = None
    #: registerDocument's request, read already (with the text set aside put back)
    request: RegisterRequest | None = None


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


def parse_envelope(data: bytes, content_type: str | None = None, *, max_bytes: int,
                   set_aside: bool = False) -> Envelope:
    """Parse a request body into an :class:`Envelope`; raises :class:`SoapFault` for bad input.

    ``set_aside``: a long inline document may be taken out before parsing (:class:`SetAside`; the caller
    puts it back into the request it reads, or parses again without)."""
    if not data.strip():
        raise SoapFault.of("empty_request")
    aside = _set_aside(data) if set_aside and len(data) <= max_bytes else None
    if aside is not None:
        try:
            view = memoryview(data)  # the envelope around the text copied once (slices and + copied it three times)
            rest = b"".join((view[:aside.start], _PLACEHOLDER_BYTES, view[aside.end:]))
            env: Envelope | None = _envelope(parse_bytes(rest, max_bytes=max_bytes))
        except (SoapFault, ValueError, etree.XMLSyntaxError):  # every refusal is made from the envelope whole
            env = None
        if env is not None:
            env.set_aside = aside
            return env
    try:
        root = parse_bytes(data, max_bytes=max_bytes)
    except XmlTooLargeError as exc:
        raise SoapFault.of("xml_too_large", size=exc.size, limit=exc.limit) from exc
    except UnsafeXmlError as exc:  # a DTD or entities: the one thing xmlsafe refuses
        raise SoapFault.of("unsafe_xml") from exc
    except etree.XMLSyntaxError as exc:
        raise SoapFault.of("malformed_xml", problem=xml_syntax("ru", exc)) from exc
    return _envelope(root)


def _envelope(root: etree._Element) -> Envelope:
    tag = root.tag  # "{namespace}local" (etree.QName made the same split for more)
    ns = tag[1:tag.index("}")] if tag[:1] == "{" else None
    if local_name(root) != "Envelope" or ns not in (SOAP11, SOAP12):
        raise SoapFault.of("not_envelope", namespace=ns or "", name=local_name(root))
    version = "1.1" if ns == SOAP11 else "1.2"  # the envelope decides, whatever the Content-Type said
    # the first child of each name (as find() would give), in one pass over the few children: a tag
    # filter (iterchildren(tag)) builds a matcher per call
    header_tag, body_tag = _HEADER_BODY[ns]
    header = body_el = None
    for child in root.iterchildren(etree.Element):
        child_tag = child.tag
        if child_tag == header_tag:
            if header is None:
                header = child
        elif child_tag == body_tag and body_el is None:
            body_el = child
    if body_el is None:
        raise SoapFault.of("no_body")
    op_el = next(body_el.iterchildren(etree.Element), None)
    if op_el is None:
        raise SoapFault.of("empty_body")
    env = Envelope(version=version, root=root, header=header, body=op_el, operation=local_name(op_el))
    if header is not None:
        for h in header.iterchildren(etree.Element):
            tag = h.tag
            name = _HEADER_NAMES.get(tag) or _header_name(tag)
            if name in _WSA_FIELDS:
                setattr(env, _WSA_FIELDS[name], _text(h))
            elif name == "transportHeader":
                for el in h.iter(etree.Element):
                    tag = el.tag
                    if (_HEADER_NAMES.get(tag) or _header_name(tag)) == "clientEntityId":
                        env.client_entity_id = _text(el)
                        break
    return env


#: local names of the header tags met (the same few in every request; bounded against odd clients)
_HEADER_NAMES: dict[str, str] = {}


def _header_name(tag: str) -> str:
    name = tag.rsplit("}", 1)[-1]
    if len(_HEADER_NAMES) < 256:
        _HEADER_NAMES[tag] = name
    return name


#: the SOAP version's namespace → its Header and Body tags
_HEADER_BODY = {ns: (f"{{{ns}}}Header", f"{{{ns}}}Body") for ns in (SOAP11, SOAP12)}
