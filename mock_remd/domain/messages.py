"""The SOAP messages of CONTRACT §3–§5, declared once: element names, order, required or optional,
nesting, lists and the domain attribute each element fills.

From this declaration come the spyne types of the served WSDL (``soap/wsdl.py``), the request the
client builders write (``soap/builders.py``), the fields the request parser reads
(``soap/operations.py``) and the element order of the answers (``soap/responses.py``).
``tests/test_soap_messages.py`` holds every writer and reader of these messages to it — including the
callback ``registerDocumentResult`` and ``getDocumentFile``, which the MIS serves and our WSDL does
not describe — and reads the served WSDL with zeep to check it field by field.

Everything here is text on the wire (``xsd:string``); a message's element without ``type`` is text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_remd.domain import model as m
from mock_remd.namespaces import CALLBACK, SERVICE


@dataclass(frozen=True)
class Element:
    """One child element of a message or type."""

    name: str
    #: the domain attribute it fills (:mod:`mock_remd.domain.model`); "" where none is kept
    attr: str = ""
    required: bool = False
    #: a complex type (None: text)
    type: Message | None = None
    #: a list: the name of each member element (``personalSigns/personalSign``)
    item: str = ""
    #: other local names the parser also takes for this element (spellings seen in the field)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    """A complex type (a whole message, or a part of one): its name and its elements in order."""

    name: str
    elements: tuple[Element, ...]
    namespace: str = SERVICE
    #: the domain dataclass a request part is read into (:mod:`mock_remd.domain.model`)
    model: type | None = None

    def element(self, name: str) -> Element:
        """The element called ``name`` (KeyError when there is none)."""
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.elements)

    @property
    def text_fields(self) -> dict[str, str]:
        """Text elements that fill a domain attribute: element name → attribute."""
        return {e.name: e.attr for e in self.elements if e.type is None and not e.item and e.attr}


def from_plain(message: Message, d: dict[str, Any]) -> Any:
    """A plain dict (``dataclasses.asdict`` / :meth:`~mock_remd.domain.model.RegisterRequest.as_plain` of a
    request part, as the store keeps it) back into ``message.model``, element by element as ``message``
    declares them; a part or list left out or ``None`` keeps the dataclass's default."""
    model, plan = _plan(message)
    values: dict[str, Any] = {}
    for attr, part, many in plan:
        value = d.get(attr)
        if value is None:
            continue
        if part is None:
            values[attr] = value
        elif many:
            values[attr] = [from_plain(part, v) for v in value if v is not None]
        else:
            values[attr] = from_plain(part, value)
    return model(**values)


#: id of a message -> (the message, its model, (attribute, part or None, a list) per element with an attribute)
_PLANS: dict[int, tuple[Message, Any, tuple[tuple[str, Message | None, bool], ...]]] = {}


def _plan(message: Message) -> tuple[Any, tuple[tuple[str, Message | None, bool], ...]]:
    """What :func:`from_plain` reads of ``message``, worked out once per message (the processor reads
    every claimed request back: walking the declaration each time cost more than the reading)."""
    found = _PLANS.get(id(message))
    if found is None or found[0] is not message:
        if message.model is None:
            raise TypeError(f"{message.name} is not read into the domain model")
        plan = tuple((e.attr, e.type, bool(e.item)) for e in message.elements if e.attr)
        found = _PLANS[id(message)] = (message, message.model, plan)
    return found[1], found[2]


def register_request_from_plain(d: dict[str, Any]) -> m.RegisterRequest:
    """A stored ``registerDocumentRequest`` (:meth:`~mock_remd.domain.model.RegisterRequest.as_plain`) back
    into a :class:`~mock_remd.domain.model.RegisterRequest`: the body from :data:`REGISTER_REQUEST`, the
    transport header's MessageID and clientEntityId and the elements that were present beside it."""
    req: m.RegisterRequest = from_plain(REGISTER_REQUEST, d)
    req.message_id = d.get("message_id") or ""
    req.client_entity_id = d.get("client_entity_id") or ""
    req.present = set(d.get("present") or ())
    return req


def _text(name: str, attr: str, *, required: bool = False, aliases: tuple[str, ...] = ()) -> Element:
    return Element(name, attr, required=required, aliases=aliases)


# ---- parts -------------------------------------------------------------------------------------------
_PERSON_FIELDS = (
    _text("localId", "local_id"), _text("snils", "snils"), _text("surname", "surname", aliases=("family",)),
    _text("name", "name", aliases=("given",)), _text("patronymic", "patronymic"),
)
PERSON = Message("Person", _PERSON_FIELDS, model=m.Person)
PATIENT = Message("Patient", (*_PERSON_FIELDS, _text("birthDate", "birth_date"), _text("gender", "gender")),
                  model=m.Patient)
DOCTOR = Message("Doctor", (_text("role", "role"), Element("person", "person", type=PERSON),
                            _text("position", "position"), _text("speciality", "speciality")), model=m.Doctor)
ATTACHMENT = Message("Attachment", (_text("data", "data_b64"), _text("checksum", "checksum")), model=m.Attachment)
PERSONAL_SIGN = Message("PersonalSign", (Element("doctor", "doctor", type=DOCTOR),
                                         Element("signature", "signature", type=ATTACHMENT, aliases=("sign",))),
                        model=m.PersonalSign)
ASSOCIATION = Message("Association", (_text("target", "target"), _text("type", "type")), model=m.Association)
ERROR_ITEM = Message("ErrorItem", (_text("code", "code"), _text("message", "message")))
REGISTRY_ITEM = Message("RegistryItem", (
    _text("emdrId", "emdr_id"), _text("localUid", "local_uid"), _text("kind", "kind"),
    _text("organization", "organization"), _text("registrationDateTime", "registration_date_time"),
    _text("storeTillDate", "store_till_date"),
))


def _errors() -> Element:
    return Element("errors", "errors", type=ERROR_ITEM, item="item")


# ---- the registry's service (our WSDL) ------------------------------------------------------------------
REGISTER_REQUEST = Message("registerDocumentRequest", (
    _text("system", "system"),
    _text("localUid", "local_uid", required=True),
    _text("kind", "kind", required=True),
    _text("creationDateTime", "creation_date_time", required=True),
    _text("organization", "organization", required=True),
    _text("department", "department"),
    _text("documentNumber", "document_number"),
    _text("series", "series"),
    Element("patient", "patient", type=PATIENT),
    _text("patientSnils", "patient_snils"),
    Element("personalSigns", "personal_signs", type=PERSONAL_SIGN, item="personalSign"),
    Element("orgSignature", "org_signature", type=ATTACHMENT),
    Element("document", "document", type=ATTACHMENT),
    Element("associations", "associations", type=ASSOCIATION, item="association"),
), model=m.RegisterRequest)
REGISTER_RESPONSE = Message("registerDocumentResponse", (_text("status", "status"), _errors()))
SEARCH_REQUEST = Message("searchRegistryItemRequest", (
    _text("organization", "organization"), _text("kind", "kind"), _text("registerDateBegin", "register_date_begin"),
    _text("registerDateEnd", "register_date_end"), _text("patientSnils", "patient_snils"),
))
SEARCH_RESPONSE = Message("searchRegistryItemResponse", (
    _text("status", "status"), Element("matches", "matches", type=REGISTRY_ITEM, item="item"), _errors(),
))
GET_ITEM_REQUEST = Message("getRegistryItemRequest", (_text("emdrId", "emdr_id"),))
GET_ITEM_RESPONSE = Message("getRegistryItemResponse", (
    _text("status", "status"), Element("item", "item", type=REGISTRY_ITEM), _errors(),
))

#: operation → (request, response): the three operations of the registry's WSDL
OPERATIONS: dict[str, tuple[Message, Message]] = {
    "registerDocument": (REGISTER_REQUEST, REGISTER_RESPONSE),
    "searchRegistryItem": (SEARCH_REQUEST, SEARCH_RESPONSE),
    "getRegistryItem": (GET_ITEM_REQUEST, GET_ITEM_RESPONSE),
}

# ---- the MIS's service (the registry calls it: CONTRACT §5) ------------------------------------------------
REGISTER_RESULT = Message("registerDocumentResult", (
    _text("relatesToMessage", "relates_to"), _text("localUid", "local_uid"), _text("status", "status"),
    # two-phase outcome (send_to_fremd) only: regional | federal
    _text("stage", "stage"),
    _text("kind", "kind"), _text("organization", "organization"),
    # a success only
    _text("emdrId", "emdr_id"), _text("registrationDateTime", "registration_date_time"),
    _text("storeTillDate", "store_till_date"),
    _errors(),
), namespace=CALLBACK)
GET_DOCUMENT_FILE_REQUEST = Message("getDocumentFileRequest", (_text("localUid", "local_uid", required=True),),
                                    namespace=CALLBACK)
GET_DOCUMENT_FILE_RESPONSE = Message("getDocumentFileResponse", (
    _text("status", "status"), Element("document", "document", type=ATTACHMENT),
), namespace=CALLBACK)
