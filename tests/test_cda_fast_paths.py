"""The cheap readers of a CDA tree answer exactly as their plain references do, on the official example.

:class:`ChildIndex` (a dict read per parent) against :func:`children`/:func:`child` (lxml's tag-filtered
iteration), :meth:`RuleChecker.text_nonempty` against :func:`has_text`, and :func:`parse_ts`'s zone
offsets against the ``timedelta(hours=, minutes=)`` they used to be built with.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from _cda_testing import parse
from lxml import etree

from mock_remd.validation.cda.access import HL7, NS, ChildIndex, child, children, has_text, qname
from mock_remd.validation.cda.checker import RuleChecker
from mock_remd.validation.cda.timestamps import parse_ts, same_creation_time


@pytest.fixture(scope="module")
def tree(valid_119_bytes: bytes) -> etree._Element:
    """The valid example with what a sender may add: comments, a PI, repeated and foreign children."""
    root = parse(valid_119_bytes)
    for el in list(root.iter(etree.Element))[::7]:
        el.insert(0, etree.Comment(" a comment "))
        el.append(etree.ProcessingInstruction("pi", "x"))
        el.append(etree.Element("{urn:other}code"))
        el.append(etree.Element("code"))  # no namespace
        if len(el) > 3:
            el.append(copy.deepcopy(el[1]))
    return root


def _names(root: etree._Element) -> list[str]:
    """Every child name the tree uses as the checks write it, and some it does not use."""
    prefix_of = {ns: p for p, ns in NS.items()}
    names = {"absent", "identity:Absent", "structuredBody"}
    for el in root.iter(etree.Element):
        q = etree.QName(el)
        if q.namespace == HL7:
            names.add(q.localname)
        elif q.namespace in prefix_of:
            names.add(f"{prefix_of[q.namespace]}:{q.localname}")
    return sorted(names)


def test_child_index_answers_as_lxml_iteration(tree):
    index = ChildIndex()
    names = _names(tree)
    elements = [*tree.iter(), None]
    for el in elements:
        for name in names:
            assert list(index.children(el, name)) == children(el, name), (el, name)
            assert index.child(el, name) is child(el, name)
            if el is not None:
                assert list(index.tagged(el, qname(name))) == list(el.iterchildren(qname(name)))
        if el is not None:
            assert list(index.tagged(el, "code")) == list(el.iterchildren("code"))  # a tag without a namespace
    chains = [("recordTarget", "patientRole", "patient", "name", "family"),
              ("custodian", "assignedCustodian", "representedCustodianOrganization", "id"),
              ("author", "assignedAuthor", "assignedPerson", "name", "identity:Patronymic"),
              ("recordTarget", "absent", "patient")]
    for chain in chains:
        assert index.child(tree, *chain) is child(tree, *chain)


def test_checker_children_share_the_index(tree):
    index = ChildIndex()
    checker = RuleChecker(index=index)
    for el in tree.iter(etree.Element):
        for name in ("id", "code", "name", "addr", "identity:Series"):
            assert checker.children(el, name) is index.children(el, name) or (
                not checker.children(el, name) and not index.children(el, name))


def test_text_nonempty_is_has_text(tree):
    elements = list(tree.iter(etree.Element))
    blank = etree.SubElement(tree, qname("title"))
    blank.text = " \n\t"
    commented = etree.SubElement(tree, qname("title"))
    commented.append(etree.Comment("x"))
    commented[0].tail = "  text after a comment "
    for el in [*elements, blank, commented, etree.Element("x")]:
        checker = RuleChecker()
        assert checker.text_nonempty("R", el, "L") is has_text(el)
        assert bool(checker.findings) is not has_text(el)


@pytest.mark.parametrize("sign", ["+", "-"])
def test_zone_offsets_as_hours_and_minutes(sign):
    for hours in range(0, 26):
        for minutes in (0, 1, 30, 45, 59, 60, 99):
            raw = f"202403151130{sign}{hours:02d}{minutes:02d}"
            expected = (-1 if sign == "-" else 1) * dt.timedelta(hours=hours, minutes=minutes)
            ts = parse_ts(raw)
            if abs(expected) >= dt.timedelta(hours=24):
                assert ts is None, raw
            else:
                assert ts is not None and ts.offset == expected, raw


def _same_creation_time_reference(document, request: dt.datetime) -> bool:
    """The comparison as it was written with ``replace`` (the reference of the cheaper one)."""
    doc_instant = document.instant
    if doc_instant is not None and request.tzinfo is not None:
        req = request.astimezone(doc_instant.tzinfo).replace(microsecond=0)
        if document.precision == "minute":
            req = req.replace(second=0)
        return req == doc_instant
    return document.date == request.date()


def test_same_creation_time_as_with_replace():
    documents = [parse_ts(v) for v in ("202403151130+0300", "20240315113045+0300", "202403151130-0530", "20240315",
                                       "2024031511", "20240315000000+1400", "202403152359-1200")]
    base = dt.datetime(2024, 3, 15, 11, 30)
    moments = [base + dt.timedelta(seconds=s, microseconds=us) for s in (-86400, -61, -60, -1, 0, 1, 45, 59, 60, 3600)
               for us in (0, 1, 999_999)]
    zones = [None, dt.UTC, dt.timezone(dt.timedelta(hours=3)), dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
             dt.timezone(dt.timedelta(hours=3, seconds=30))]
    for document in documents:
        for moment in moments:
            for zone in zones:
                request = moment.replace(tzinfo=zone)
                assert same_creation_time(document, request) is _same_creation_time_reference(document, request), (
                    document.raw, request)
