"""Reading operation bodies into core values, by local name and in any order (CONTRACT §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from mock_remd.domain.messages import GET_ITEM_REQUEST, REGISTER_REQUEST, SEARCH_REQUEST, Message
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


@dataclass(frozen=True)
class _Reading:
    """How :func:`_read` reads one message: its elements by local name (``(attr, rank, how, type)``: rank 0
    for the element's name, 1, 2 … for its aliases in order; how: :data:`_TEXT`, :data:`_PART` or
    :data:`_LIST`), the text attributes every instance starts from (""), and the tags met so far (a tag →
    its element's entry, None for a tag the message does not read)."""

    by_name: dict[str, tuple[str, int, int, Message | None]]
    texts: dict[str, str]
    tags: dict[str, tuple[str, int, int, Message | None] | None]


_TEXT, _PART, _LIST = 0, 1, 2
#: each message's reading (by id: hashing a frozen Message walks it whole)
_READINGS: dict[int, _Reading] = {}
_UNSEEN: Any = object()


def _reading(message: Message) -> _Reading:
    found = _READINGS.get(id(message))
    if found is None:
        by_name: dict[str, tuple[str, int, int, Message | None]] = {}
        for e in message.elements:
            how = _TEXT if e.type is None else (_LIST if e.item else _PART)
            for rank, n in enumerate((e.name, *e.aliases)):
                by_name.setdefault(n, (e.attr, rank, how, e.type))
        texts = {e.attr: "" for e in message.elements if e.type is None}
        found = _READINGS[id(message)] = _Reading(by_name, texts, {})
    return found


def _read(message: Message, el: etree._Element) -> Any:
    """A request part into its domain dataclass, as ``message`` declares it: the first child of each name,
    an element's name before its aliases whatever their order; a part or list left out keeps the
    dataclass's default. One pass over the children (a child taken is read at once: a later child of a
    name ranked before it replaces it)."""
    reading = _reading(message)
    tags = reading.tags
    values: dict[str, Any] = reading.texts.copy()
    ranks: dict[str, int] = {}  # attr → rank of the child read into it
    for c in el.iterchildren(etree.Element):
        tag = c.tag
        entry = tags.get(tag, _UNSEEN)
        if entry is _UNSEEN:
            entry = reading.by_name.get(_local(tag))
            if len(tags) < 256:
                tags[tag] = entry
        if entry is None:
            continue
        attr, rank, how, kind = entry
        if ranks.get(attr, rank + 1) <= rank:  # a child of this name, or of a name ranked before it, was read
            continue
        ranks[attr] = rank
        if how == _TEXT:
            values[attr] = _text(c)
        elif how == _LIST:
            values[attr] = [_read(kind, m) for m in c.iterchildren(etree.Element)]  # type: ignore[arg-type]
        else:
            values[attr] = _read(kind, c)  # type: ignore[arg-type]
    if message.model is None:
        raise TypeError(f"{message.name} is not read into the domain model")
    return message.model(**values)


#: registerDocumentRequest's elements by local name (aliases included)
_REGISTER_ELEMENTS = {n: e for e in REGISTER_REQUEST.elements for n in (e.name, *e.aliases)}


def parse_register(op: etree._Element, *, message_id: str = "", client_entity_id: str = "") -> RegisterRequest:
    """``registerDocumentRequest`` → :class:`RegisterRequest` (missing elements stay empty; a text
    element given twice keeps the last, a list given twice keeps the members of both)."""
    req = RegisterRequest(message_id=message_id, client_entity_id=client_entity_id)
    present = req.present
    for el in op.iterchildren(etree.Element):
        tag = el.tag
        name = _LOCAL_NAMES.get(tag) or _local(tag)
        present.add(name)
        e = _REGISTER_ELEMENTS.get(name)
        if e is None:
            continue
        if e.type is None:
            setattr(req, e.attr, _text(el))
        elif e.item:
            getattr(req, e.attr).extend([_read(e.type, c) for c in el.iterchildren(etree.Element)])
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
