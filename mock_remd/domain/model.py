"""Domain values of the registry core: the parsed registerDocument request and its parts.

These are plain dataclasses with no XML or web knowledge: the SOAP layer fills them, the core and
the validation layers read them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, ClassVar

_NOT_DIGIT = re.compile(r"\D")


def snils_digits(value: str | None) -> str:
    """The 11 digits of a SNILS (``123-456-789 01`` → ``12345678901``); empty for None."""
    if value and value.isdecimal():  # only digits already (``\d`` is Unicode category Nd, as isdecimal)
        return value
    return _NOT_DIGIT.sub("", value or "")


def normalize_message_id(value: str | None) -> str:
    """Message ids are stored and matched without ``urn:uuid:`` and in lower case."""
    v = (value or "").strip()
    if v.lower().startswith("urn:uuid:"):
        v = v[9:]
    return v.lower()


#: each dataclass's field names; None for a type returned as it is (not a dataclass, not a list)
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
#: types returned as they are without a look at their fields (most values of a request are str)
_SCALARS = (str, int, float, bool, type(None))
_UNMET: Any = object()


def _plain(value: Any) -> Any:
    """Dataclasses → dicts, lists → lists, everything else as is (our model holds only str/int/None)."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if cls is list:
        return [_plain(v) for v in value] if value else []
    names = _FIELD_NAMES.get(cls, _UNMET)
    if names is _UNMET:  # a type met first: a dataclass's fields, or None (a set …: returned as it is)
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls)) if is_dataclass(cls) else None
    if names is None:
        return value
    attrs = value.__dict__  # the fields' values, read without a getattr each
    if len(attrs) != len(names):  # an attribute beside the fields: only the fields
        return {n: _plain(attrs[n]) for n in names}
    out = attrs.copy()  # the fields in their order, copied at once; only the few non-text values looked into
    for n, v in out.items():
        if type(v) not in _SCALARS:
            out[n] = _plain(v)
    return out


@dataclass
class Person:
    local_id: str = ""
    snils: str = ""
    surname: str = ""
    name: str = ""
    patronymic: str = ""


@dataclass
class Patient(Person):
    birth_date: str = ""
    gender: str = ""


@dataclass
class Doctor:
    role: str = ""
    person: Person = field(default_factory=Person)
    position: str = ""
    speciality: str = ""


@dataclass
class Attachment:
    """A base64 block with its declared checksum (``data`` + ``checksum``)."""

    data_b64: str = ""
    checksum: str = ""
    #: not a field: the bytes of ``data_b64`` when the protocol layer decoded them already (strict
    #: base64, as the coarse checks decode; see soap/envelope.py's SetAside)
    decoded: ClassVar[bytes | None] = None


@dataclass
class PersonalSign:
    doctor: Doctor = field(default_factory=Doctor)
    signature: Attachment | None = None


@dataclass
class Association:
    target: str = ""
    type: str = ""


@dataclass
class RegisterRequest:
    """The metadata of one ``registerDocumentRequest`` (values as sent, stripped)."""

    message_id: str = ""
    client_entity_id: str = ""
    system: str = ""
    local_uid: str = ""
    kind: str = ""
    creation_date_time: str = ""
    organization: str = ""
    department: str = ""
    document_number: str = ""
    series: str = ""
    patient: Patient | None = None
    patient_snils: str = ""
    personal_signs: list[PersonalSign] = field(default_factory=list)
    org_signature: Attachment | None = None
    document: Attachment | None = None
    associations: list[Association] = field(default_factory=list)
    #: elements present in the request body (local names), for "required element" checks
    present: set[str] = field(default_factory=set)

    @property
    def effective_patient_snils(self) -> str:
        """The patient's SNILS digits, from ``patient/snils`` or the legacy ``patientSnils``."""
        if self.patient and self.patient.snils:
            return snils_digits(self.patient.snils)
        return snils_digits(self.patient_snils)

    def as_plain(self) -> dict[str, Any]:
        """Same as :func:`dataclasses.asdict` with ``present`` sorted, without deep-copying the strings
        (this runs on every accepted registration)."""
        d = _plain(self)
        d["present"] = sorted(self.present)
        return d

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (signature and document data are replaced by their sizes)."""
        d = asdict(self)
        d["present"] = sorted(self.present)
        for sign in d["personal_signs"]:
            if sign.get("signature"):
                sign["signature"]["data_b64"] = f"<{len(sign['signature']['data_b64'])} base64 chars>"
        for key in ("org_signature", "document"):
            if d.get(key):
                d[key]["data_b64"] = f"<{len(d[key]['data_b64'])} base64 chars>"
        return d
