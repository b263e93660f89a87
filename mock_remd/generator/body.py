"""Helpers for ``component/structuredBody``: sections, narrative tables, coded observations."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from mock_remd.generator import nsi
from mock_remd.generator.xml import Code, coded, el


def structured_body(doc: etree._Element) -> etree._Element:
    """Append ``component/structuredBody`` to the document."""
    return el(el(doc, "component"), "structuredBody")


def section(parent: etree._Element, code: str, title: str | None = None) -> etree._Element:
    """Append ``component/section`` with its 99.2.197 code and title; returns the section."""
    sec = el(el(parent, "component"), "section")
    coded(sec, "code", nsi.section(code))
    el(sec, "title", text=title or nsi.SECTION_NAMES[code])
    return sec


def text_table(sec: etree._Element, rows: Iterable[tuple[str, str]]) -> etree._Element:
    """A two-column narrative table (label, value)."""
    text = el(sec, "text")
    body = el(el(text, "table"), "tbody")
    for label, value in rows:
        tr = el(body, "tr")
        el(el(tr, "td"), "content", text=label)
        el(el(tr, "td"), "content", text=value)
    return text


def text_paragraph(sec: etree._Element, value: str) -> etree._Element:
    """Plain narrative text."""
    return el(sec, "text", text=value)


def observation(parent: etree._Element, code: Code, *, tag: str = "entry") -> etree._Element:
    """Append ``<tag>/observation[OBS/EVN]`` with ``code``; returns the observation."""
    obs = el(el(parent, tag), "observation", {"classCode": "OBS", "moodCode": "EVN"})
    coded(obs, "code", code)
    return obs


def field(code: str, name: str) -> Code:
    """A 99.2.166 "Кодируемые поля CDA документов" code."""
    return nsi.FIELD(code, name)


def value_cd(obs: etree._Element, value: Code) -> etree._Element:
    """``value xsi:type="CD"``."""
    return coded(obs, "value", value, xsi_type="CD")


def value_st(obs: etree._Element, text: str) -> etree._Element:
    """``value xsi:type="ST"``."""
    return el(obs, "value", text=text, xsi_type="ST")
