"""Reading operation bodies into core values, by local name and in any order (CONTRACT §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from mock_remd.domain.messages import GET_ITEM_REQUEST, REGISTER_REQUEST, SEARCH_REQUEST, Element, Message
from mock_remd.domain.model import RegisterRequest
from mock_remd.xmlsafe import local_name
from mock_remd.xmlsafe import text_of as _text

REGISTER = "registerDocumentRequest"
SEARCH = "searchRegistryItemRequest"
GET_ITEM = "getRegistryItemRequest"
OPERATIONS = {REGISTER: "registerDocument", SEARCH: "searchRegistryItem", GET_ITEM: "getRegistryItem"}


#: local names of the tags met (the same few dozen in every request; bounded against odd clients)
_LOCAL_NAMES: dict[str, str] = {}


def _local(tag: str) -> str:
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1]
        if len(_LOCAL_NAMES) < 1024:
            _LOCAL_NAMES[tag] = name
    return name


def _child_map(el: etree._Element | None) -> dict[str, etree._Element]:
    out: dict[str, etree._Element] = {}
    if el is not None:
        for c in el.iterchildren(etree.Element):
            out.setdefault(_local(c.tag), c)
    return out


#: each message's elements with the local names that fill them (by id: hashing a frozen Message walks it whole)
_NAMES: dict[int, tuple[tuple[Element, tuple[str, ...]], ...]] = {}


def _named(message: Message) -> tuple[tuple[Element, tuple[str, ...]], ...]:
    found = _NAMES.get(id(message))
    if found is None:
        found = _NAMES[id(message)] = tuple((e, (e.name, *e.aliases)) for e in message.elements)
    return found


def _read(message: Message, el: etree._Element) -> Any:
    """A request part into its domain dataclass, as ``message`` declares it: the first child of each name
    (or alias); a part or list left out keeps the dataclass's default."""
    m = _child_map(el)
    values: dict[str, Any] = {}
    for e, names in _named(message):
        child = None
        for n in names:
            child = m.get(n)
            if child is not None:
                break
        if e.type is None:
            values[e.attr] = _text(child)
        elif child is None:
            continue
        elif e.item:
            values[e.attr] = [_read(e.type, c) for c in child.iterchildren(etree.Element)]
        else:
            values[e.attr] = _read(e.type, child)
    if message.model is None:
        raise TypeError(f"{message.name} is not read into the domain model")
    return message.model(**values)


#: registerDocumentRequest's elements by local name (aliases included)
_REGISTER_ELEMENTS = {n: e for e in REGISTER_REQUEST.elements for n in (e.name, *e.aliases)}


def parse_register(op: etree._Element, *, message_id: str = "", client_entity_id: str = "") -> RegisterRequest:
    """``registerDocumentRequest`` → :class:`RegisterRequest` (missing elements stay empty; a text
    element given twice keeps the last, a list given twice keeps the members of both)."""
    req = RegisterRequest(message_id=message_id, client_entity_id=client_entity_id)
    for el in op.iterchildren(etree.Element):
        name = _local(el.tag)
        req.present.add(name)
        e = _REGISTER_ELEMENTS.get(name)
        if e is None:
            continue
        if e.type is None:
            setattr(req, e.attr, _text(el))
        elif e.item:
            getattr(req, e.attr).extend(_read(e.type, c) for c in el.iterchildren(etree.Element))
        else:
            setattr(req, e.attr, _read(e.type, el))
    return req


@dataclass
class SearchCriteria:
    """``searchRegistryItemRequest`` filters (all optional)."""

    organization: str = ""
    kind: str = ""
    register_date_begin: str = ""
    register_date_end: str = ""
    patient_snils: str = ""


def parse_search(op: etree._Element) -> SearchCriteria:
    """``searchRegistryItemRequest`` → :class:`SearchCriteria`."""
    m = _child_map(op)
    return SearchCriteria(**{e.attr: _text(m.get(e.name)) for e in SEARCH_REQUEST.elements})


def parse_get_item(op: etree._Element) -> str:
    """``getRegistryItemRequest`` → the emdrId asked for."""
    return _text(_child_map(op).get(GET_ITEM_REQUEST.elements[0].name))


def find_register_request(root: etree._Element) -> etree._Element | None:
    """The ``registerDocumentRequest`` element in a SOAP envelope or a bare request document."""
    if local_name(root) == REGISTER:
        return root
    for el in root.iter():
        if isinstance(el.tag, str) and local_name(el) == REGISTER:
            return el
    return None
