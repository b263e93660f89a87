"""The synchronous ("coarse") checks of registerDocument: what the registry refuses at once.

Every problem found is reported, not only the first. Messages are the registry's Russian texts and
name the element and the value.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
from dataclasses import dataclass, field

import pybase64
from zlib_ng.zlib_ng import crc32  # zlib.crc32's checksum by carry-less multiplication (see _decode)

from mock_remd.catalog import errors as E
from mock_remd.catalog.errors import ErrorItem
from mock_remd.catalog.findings import FINDINGS
from mock_remd.catalog.kinds import KindRegistry
from mock_remd.core.dates import parse_date, parse_datetime
from mock_remd.domain.model import Attachment, RegisterRequest, snils_digits
from mock_remd.validation.cda import snils as snils_rules

#: an OID (``^[0-2](\.(0|[1-9][0-9]*))+$``, its components possessive: the same texts match, without the
#: captures and backtracking, ~40 % fewer steps)
OID_RE = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*+))++$")
REQUIRED = ("localUid", "kind", "creationDateTime", "organization")
#: how far in the future a creationDateTime may be before WRONG_CREATION_DATE (clock skew)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass
class CoarseResult:
    """Errors found and the document bytes decoded on the way (None when absent or broken)."""

    errors: list[ErrorItem] = field(default_factory=list)
    document: bytes | None = None


# the texts of the refusals, bound once (catalog/findings.py)
_NOT_SNILS = FINDINGS["sync.not_snils"].format
_SNILS_CHECKSUM = FINDINGS["sync.snils_checksum"].format
_MISSING_DATA = FINDINGS["sync.missing_data"].format
_DATA_NOT_BASE64 = FINDINGS["sync.data_not_base64"].format
_CHECKSUM_NOT_NUMBER = FINDINGS["sync.checksum_not_number"].format
_CHECKSUM_DIFFERS = FINDINGS["sync.checksum_differs"].format
_MISSING = FINDINGS["sync.missing"].format
_NOT_UUID = FINDINGS["sync.not_uuid"].format
_NOT_OID = FINDINGS["sync.not_oid"].format
_NOT_DATETIME = FINDINGS["sync.not_datetime"].format
_NO_OFFSET = FINDINGS["sync.no_offset"].format
_UNKNOWN_KIND = FINDINGS["sync.unknown_kind"].format
_NOT_DATE = FINDINGS["sync.not_date"].format
_UNKNOWN_GENDER = FINDINGS["sync.unknown_gender"].format
_NO_TARGET = FINDINGS["sync.no_target"].format
_TOO_LONG = FINDINGS["sync.too_long"].format


def _ve(text: str) -> ErrorItem:
    return E.validation_error(text)


#: the hyphenated UUID form (every text it matches is one uuid.UUID reads)
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SNILS_TEXT = re.compile(r"[\d\s-]+")


def _is_uuid(value: str) -> bool:
    return _UUID_RE.fullmatch(value) is not None


def _check_snils(value: str, where: str, out: list[ErrorItem]) -> None:
    if not value:
        return
    digits = snils_digits(value)
    if len(digits) != 11 or not (value.isdecimal() or _SNILS_TEXT.fullmatch(value)):  # digits only: no pattern to try
        out.append(_ve(_NOT_SNILS(where=where, value=value)))
    elif not snils_rules.checksum_ok(digits):
        out.append(_ve(_SNILS_CHECKSUM(value=value, where=where)))


def _b64(text: str) -> bytes | None:
    """Strict base64 (line breaks and spaces allowed); None when it is not base64. The common
    unbroken text is decoded as is: splitting a 50 KB string costs more than decoding it.

    pybase64 (SIMD) decodes with the same strict rules as the standard library in about a
    twentieth of the time (12 against 335 µs for the 45 KB document of the benchmark)."""
    try:
        return pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return pybase64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _decode(att: Attachment, where: str, out: list[ErrorItem], check_checksum: bool) -> bytes | None:
    if not att.data_b64:
        out.append(_ve(_MISSING_DATA(where=where)))
        return None
    data = att.decoded if att.decoded is not None else _b64(att.data_b64)
    if data is None:
        out.append(_ve(_DATA_NOT_BASE64(where=where)))
        return None
    if check_checksum and att.checksum:
        if not att.checksum.isdigit():
            out.append(_ve(_CHECKSUM_NOT_NUMBER(where=where, checksum=att.checksum)))
        else:
            # zlib-ng: 0.6 against 24 µs for the benchmark's 34 KB document with the system zlib (whose
            # CRC was 41 % of these checks' instructions)
            actual = crc32(data) & 0xFFFFFFFF
            if int(att.checksum) != actual:
                out.append(_ve(_CHECKSUM_DIFFERS(where=where, checksum=att.checksum, actual=actual)))
    return data


def run_coarse_checks(
    req: RegisterRequest,
    *,
    kinds: KindRegistry,
    now: dt.datetime,
    check_checksums: bool = True,
) -> CoarseResult:
    """All synchronous checks of the request itself (systems and duplicates are checked by the caller)."""
    out: list[ErrorItem] = []
    res = CoarseResult(errors=out)
    values = {
        "localUid": req.local_uid,
        "kind": req.kind,
        "creationDateTime": req.creation_date_time,
        "organization": req.organization,
    }
    for name in REQUIRED:
        if not values[name]:
            out.append(_ve(_MISSING(name=name)))
    too_long = _too_long({**values, "documentNumber": req.document_number}) if _any_too_long(req) else []
    out.extend(too_long)
    if too_long:  # values the registry cannot even store: the other checks would only repeat them
        return res
    if req.local_uid and not _is_uuid(req.local_uid):
        out.append(_ve(_NOT_UUID(value=req.local_uid)))
    for name, value in (("organization", req.organization), ("department", req.department)):
        if value and not OID_RE.match(value):
            out.append(_ve(_NOT_OID(name=name, value=value)))
    created: dt.datetime | None = None
    if req.creation_date_time:
        created = parse_datetime(req.creation_date_time)
        if created is None:
            out.append(_ve(_NOT_DATETIME(value=req.creation_date_time)))
        elif created.tzinfo is None:  # parse_datetime gives an aware value exactly when an offset is written
            out.append(_ve(_NO_OFFSET(value=req.creation_date_time)))
            created = None
        elif created > now + FUTURE_TOLERANCE:
            out.append(E.item("WRONG_CREATION_DATE"))
    if req.kind:
        kind = kinds.get(req.kind)
        if kind is None:
            out.append(_ve(_UNKNOWN_KIND(kind=req.kind)))
        elif created is not None and not kind.valid_on(created.date()):
            out.append(E.item("NO_DOCUMENT_KIND_ON_DATE", kind=req.kind))
    if req.patient:
        _check_snils(req.patient.snils, "patient/snils", out)
        if req.patient.birth_date and parse_date(req.patient.birth_date) is None:
            out.append(_ve(_NOT_DATE(value=req.patient.birth_date)))
        if req.patient.gender and req.patient.gender not in ("1", "2", "3"):
            out.append(_ve(_UNKNOWN_GENDER(value=req.patient.gender)))
    _check_snils(req.patient_snils, "patientSnils", out)
    signatures = [ps.signature for ps in req.personal_signs if ps.signature and ps.signature.data_b64]
    if not signatures:
        out.append(E.item("NO_SIGNATURE"))
    for i, ps in enumerate(req.personal_signs, 1):
        _check_snils(ps.doctor.person.snils, f"personalSigns/personalSign[{i}]/doctor/person/snils", out)
        if ps.signature and ps.signature.data_b64 and check_checksums and ps.signature.checksum:
            _decode_signature_checksum(ps.signature, f"personalSigns/personalSign[{i}]/signature", out)
    if req.org_signature and req.org_signature.data_b64 and check_checksums and req.org_signature.checksum:
        _decode_signature_checksum(req.org_signature, "orgSignature", out)
    if req.document is not None:
        res.document = _decode(req.document, "document", out, check_checksums)
    for i, a in enumerate(req.associations, 1):
        if not a.target:
            out.append(_ve(_NO_TARGET(number=i)))
    return res


#: longest values the registry stores (the store's column sizes)
MAX_LENGTHS = {"localUid": 128, "kind": 16, "creationDateTime": 40, "organization": 128, "documentNumber": 256}


def _any_too_long(req: RegisterRequest) -> bool:
    """Whether one of the values :data:`MAX_LENGTHS` bounds is longer (the usual answer, no, without a dict)."""
    m = MAX_LENGTHS
    return (len(req.local_uid) > m["localUid"] or len(req.kind) > m["kind"]
            or len(req.creation_date_time) > m["creationDateTime"] or len(req.organization) > m["organization"]
            or len(req.document_number) > m["documentNumber"])


def _too_long(values: dict[str, str]) -> list[ErrorItem]:
    """VALIDATION_ERROR for each value longer than the registry keeps, naming the element and its start."""
    return [E.bad_value(name, value, _TOO_LONG(length=len(value), limit=MAX_LENGTHS[name]))
            for name, value in values.items() if name in MAX_LENGTHS and value and len(value) > MAX_LENGTHS[name]]


def _decode_signature_checksum(att: Attachment, where: str, out: list[ErrorItem]) -> None:
    """Checksum of a signature block; undecodable signatures are left to the asynchronous
    SIGNATURE_DECODING_ERROR check."""
    data = _b64(att.data_b64)
    if data is None:
        return
    if not att.checksum.isdigit():
        out.append(_ve(_CHECKSUM_NOT_NUMBER(where=where, checksum=att.checksum)))
        return
    actual = crc32(data) & 0xFFFFFFFF
    if int(att.checksum) != actual:
        out.append(_ve(_CHECKSUM_DIFFERS(where=where, checksum=att.checksum, actual=actual)))
