"""The callback envelope built from tags made once gives the bytes the element-by-element writer gave.

The reference below is the writer as it was (``xml.sax.saxutils.escape`` per value, the declaration
walked per callback); the callbacks a MIS receives must not change by a byte. Every result the
processor builds is covered: success, error with items, two-phase stages, non-text values, markup
characters in every field, SOAP 1.1 and 1.2, malformed."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mock_remd.delivery.callback_xml import result_envelope, strip_urn
from mock_remd.domain.messages import REGISTER_RESULT
from mock_remd.namespaces import CALLBACK, ENVELOPE_NS, WSA


def _reference_el(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"<ns2:{name}>{escape(str(value))}</ns2:{name}>"


def _reference_body(outcome: dict[str, Any], relates_to: str) -> str:
    values = {**outcome, "relates_to": strip_urn(relates_to)}
    success = outcome.get("status") == "success"
    parts = []
    for e in REGISTER_RESULT.elements:
        if e.item and e.type is not None:
            items = "".join(f"<ns2:{e.item}>" + "".join(_reference_el(f.name, i[f.attr]) for f in e.type.elements)
                            + f"</ns2:{e.item}>" for i in values.get(e.attr) or [])
            parts.append(f"<ns2:{e.name}>{items}</ns2:{e.name}>" if items else "")
        elif success or e.name not in ("emdrId", "registrationDateTime", "storeTillDate"):
            parts.append(_reference_el(e.name, values.get(e.attr)))
    return f'<ns2:registerDocumentResult xmlns:ns2="{CALLBACK}">' + "".join(parts) + "</ns2:registerDocumentResult>"


def _reference_envelope(outcome: dict[str, Any], *, relates_to: str, to: str, version: str, message_id: str) -> bytes:
    soap = ENVELOPE_NS.get(version, ENVELOPE_NS["1.1"])
    header = (f"<wsa:To>{escape(to)}</wsa:To><wsa:Action>sendRegisterDocumentResult</wsa:Action>"
              f"<wsa:MessageID>{escape(message_id)}</wsa:MessageID><wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{soap}" xmlns:wsa="{WSA}">'
            f"<soap:Header>{header}</soap:Header><soap:Body>{_reference_body(outcome, relates_to)}</soap:Body>"
            "</soap:Envelope>").encode()


MARKUP = "a&b<c>d \"e\" 'f' ]]> ё"
OUTCOMES = [
    {"status": "success", "local_uid": "u1", "kind": "119", "organization": "1.2.643.5.1.13.13.12.2.50.1",
     "emdr_id": "1.50.26.12.000000001", "registration_date_time": "2026-12-07T03:00:00.123+03:00",
     "store_till_date": "2126-12-07+03:00"},
    {"status": "success", "stage": "federal", "local_uid": MARKUP, "kind": 186, "organization": MARKUP,
     "emdr_id": MARKUP, "registration_date_time": "", "store_till_date": None, "errors": []},
    {"status": "error", "local_uid": "u2", "kind": "", "organization": None, "emdr_id": "not sent",
     "errors": [{"code": "VALIDATION_ERROR", "message": MARKUP}, {"code": "", "message": ""},
                {"code": 7, "message": None, "incident": "x"}]},
    {"status": "error", "stage": "regional", "errors": []},
    {},
]


@pytest.mark.parametrize("version", ["1.1", "1.2", "9.9"])
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_callback_bytes_are_those_of_the_reference_writer(outcome, version):
    for relates_to in ("urn:uuid:ABC", "URN:UUID:abc&<>", "plain"):
        got = result_envelope(outcome, relates_to=relates_to, to="http://mis/cb?a=1&b=<2>", version=version,
                              message_id="urn:uuid:m&1")
        assert got == _reference_envelope(outcome, relates_to=relates_to, to="http://mis/cb?a=1&b=<2>",
                                          version=version, message_id="urn:uuid:m&1")
        etree.fromstring(got)  # well-formed, markup escaped


def test_malformed_callback_is_cut_as_before():
    got = result_envelope(OUTCOMES[0], relates_to="r", to="http://mis/cb", message_id="m", malformed=True)
    full = _reference_envelope(OUTCOMES[0], relates_to="r", to="http://mis/cb", version="1.1", message_id="m")
    assert got == full[: full.find(b"<ns2:status>")] + b"<ns2:status>succ"


_TEXT = st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), st.integers())


@settings(max_examples=40, deadline=None, database=None)
@given(fields=st.fixed_dictionaries({}, optional={e.attr: _TEXT for e in REGISTER_RESULT.elements if not e.item}),
       status=st.sampled_from(["success", "error", None]),
       errors=st.lists(st.fixed_dictionaries({"code": _TEXT, "message": _TEXT}), max_size=3))
def test_any_outcome_gives_the_reference_bytes(fields, status, errors):
    outcome = {**fields, "errors": errors}
    if status is not None:
        outcome["status"] = status
    got = result_envelope(outcome, relates_to="urn:uuid:R", to="http://mis/cb", message_id="urn:uuid:M")
    assert got == _reference_envelope(outcome, relates_to="urn:uuid:R", to="http://mis/cb", version="1.1",
                                      message_id="urn:uuid:M")


def test_emdr_id_year_and_month_are_those_strftime_gives():
    import datetime as dt

    from mock_remd.core.emdr_id import EMDR_ID_RE, format_emdr_id

    for when in (dt.datetime(2026, 12, 7, 3), dt.datetime(2000, 1, 31), dt.datetime(1999, 10, 1), dt.datetime(2105, 5, 5)):
        got = format_emdr_id("1", "50", when, 42)
        assert got == f"1.50.{when:%y}.{when:%m}.000000042" and EMDR_ID_RE.match(got)


def test_callback_message_id_is_a_random_v4_uuid():
    """A callback's wsa:MessageID is a fresh version 4 UUID (domain/ids.py; tests/test_message_ids.py)."""
    import uuid

    first, second = (result_envelope(OUTCOMES[0], relates_to="r", to="http://mis/cb") for _ in range(2))
    ids = [uuid.UUID(body.split(b"<wsa:MessageID>urn:uuid:")[1][:36].decode()) for body in (first, second)]
    assert all(u.version == 4 for u in ids) and ids[0] != ids[1]
