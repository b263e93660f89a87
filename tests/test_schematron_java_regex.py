"""``matches()`` moved to Saxon's Java regex engine gives what Saxon's XPath regex engine gives.

Every regex literal of the official packs (95 published + the four in shared/packs) that
:func:`to_java` translates is run by Saxon both ways over the attribute values and texts of the
official and generated documents, plus versions of them with the characters where the two dialects
differ (newlines before the end, other line terminators, non-ASCII digits and spaces, characters
outside the BMP): the answers must be identical. Whole-document equality of the two compilations
on the packs' examples and their mutations is :func:`test_validation_schematron.test_optimised_equals_reference`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from mock_remd.validation.schematron import saxon
from mock_remd.validation.schematron.java_regex import (
    _CALL,
    _arguments,
    _string_literal,
    rewrite_matches,
    to_java,
)
from mock_remd.validation.schematron.model import parse_schema


def test_translation_of_the_safe_subset() -> None:
    assert to_java(r"^[0-2](\.([1-9][0-9]*|0))+$") == r"^[0-2](\.([1-9][0-9]*|0))+\z"
    assert to_java("^[1-2]{1}[0-9]{3}$") == r"^[1-2]{1}[0-9]{3}\z"
    assert to_java("a.b") == r"a[^\n\r]b"
    assert to_java("[-a-c.]x*?") == r"[\-a-c.]x*?"
    assert to_java("Отдельные|тесты") == "Отдельные|тесты"
    for pattern in (r"\d{3}", r"\s", r"\w", r"\p{L}", r"(a)\1", "[a-[b]]", "[a&&b]", "(?:a)", "a**", "a{2,1}",
                    "[a-c-e]", "a]", "(a", "a)", "\U0001d7d8", "*a", r"\i", "[]"):
        assert to_java(pattern) is None, pattern


def test_only_literal_two_argument_calls_are_rewritten() -> None:
    assert rewrite_matches("not(matches(@root,'^1$'))") == r"not(matches(@root, '^1\z', ';j'))"
    assert rewrite_matches("fn:matches(., \"a'b\")") == "fn:matches(., 'a''b', ';j')"
    kept = ["matches(@a, '^x$', 'i')", "matches(@a, $re)", "matches(@a, '\\d')", "'matches(@a, ''x'')'",
            "my:matches(@a, 'x')", "count(x) = 1"]
    for expr in kept:
        assert rewrite_matches(expr) == expr
    nested = rewrite_matches("matches(concat(@a, substring(@b, 1, 2)), 'x') and matches(@c,'y$')")
    assert nested == r"matches(concat(@a, substring(@b, 1, 2)), 'x', ';j') and matches(@c, 'y\z', ';j')"


def _pack_regexes(*dirs: Path) -> list[str]:
    found: set[str] = set()
    for d in dirs:
        for sch in sorted(d.rglob("*.sch")):
            for rule in parse_schema(sch.read_bytes()).rules():
                for check in rule.checks:
                    for m in _CALL.finditer(check.test):
                        args = _arguments(check.test, m.end())
                        if args is not None and len(args[0]) == 2:
                            literal = _string_literal(args[0][1].strip())
                            if literal is not None:
                                found.add(literal)
    return sorted(found)


_AWKWARD = ["\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029", "\u00a0", "\u0663", "\U0001d7d8", " ", "\t", "x"]


def _corpus(docs: list[bytes], every: int = 1) -> list[str]:
    """The documents' attribute values and texts, each also with every awkward character added at its
    start, middle and end; with ``every`` > 1 only every such value of the sorted list gets the
    additions (a bounded sample: the full product is some 20,000 strings, about 30 s of Saxon)."""
    values: set[str] = {""}
    for doc in docs:
        for el in etree.fromstring(doc).iter():
            if not isinstance(el.tag, str):
                continue
            values.update(el.attrib.values())
            if el.text and el.text.strip():
                values.add(el.text.strip())
    base = sorted(v for v in values if len(v) <= 200)
    out = set(base)
    for v in base[::every]:
        for odd in _AWKWARD:
            out.update((v + odd, odd + v, v[: len(v) // 2] + odd + v[len(v) // 2 :]))
    return sorted(out)


def _engines_agree(packs_dir: Path, published_packs_dir: Path, examples_dir: Path, every: int) -> None:
    from mock_remd.generator import generate

    regexes = [r for r in _pack_regexes(packs_dir, published_packs_dir) if to_java(r) is not None]
    assert len(regexes) >= 50  # the packs' dates, OIDs, SNILS, codes …
    docs = [p.read_bytes() for p in sorted(examples_dir.glob("*.xml"))]
    docs += [generate(kind, seed=1, signer=None).content for kind in ("119", "174", "186", "204")]
    corpus = _corpus(docs, every)
    root = etree.Element("t")
    for r in regexes:
        etree.SubElement(root, "r", x=r, j=to_java(r) or "")
    for s in corpus:
        etree.SubElement(root, "s", v=s)
    xml = etree.tostring(root, encoding="unicode")
    with saxon.saxon_lock():
        node = saxon.processor().parse_xml(xml_text=xml)
        xp = saxon.processor().new_xpath_processor()
        xp.set_context(xdm_item=node)
        count = xp.evaluate_single("count(/t/s)")
        differ = xp.evaluate(
            "for $r in /t/r, $s in /t/s/@v return "
            "if (matches($s, $r/@x) eq matches($s, $r/@j, ';j')) then () else concat($r/@x, ' ~ ', $s)"
        )
    assert int(str(count)) == len(corpus) > 1000
    assert differ is None or differ.size == 0, [str(differ.item_at(i)) for i in range(min(differ.size, 10))]


def test_java_engine_agrees_with_xpath_engine_on_every_pack_regex(
    packs_dir: Path, published_packs_dir: Path, examples_dir: Path
) -> None:
    """Every value as it is, every eighth one also with the awkward characters (``--run-slow``: all)."""
    _engines_agree(packs_dir, published_packs_dir, examples_dir, every=8)


@pytest.mark.slow
def test_java_engine_agrees_with_xpath_engine_on_every_value_made_awkward(
    packs_dir: Path, published_packs_dir: Path, examples_dir: Path
) -> None:
    _engines_agree(packs_dir, published_packs_dir, examples_dir, every=1)


@pytest.mark.parametrize("value", ["1.2.643.5.1.13.13.12.2.50.100.1.70", "1.2.643.5.1.13.13.12.2.50.100.1.70\n",
                                   "1.2.0.100.1.70"])
def test_end_of_string_is_the_end(value: str) -> None:
    """``$`` of XPath is ``\\z`` of Java: a trailing newline does not match (Java's ``$`` may match before it)."""
    pattern = r"^[0-2](\.([1-9][0-9]*|0))+\.100([.]([1-9][0-9]*|0))+\.70$"
    with saxon.saxon_lock():
        xp = saxon.processor().new_xpath_processor()
        xp.set_parameter("s", saxon.processor().make_string_value(value))
        xp.declare_variable("s")
        a = xp.evaluate_single(f"matches($s, '{pattern}')")
        b = xp.evaluate_single(f"matches($s, '{to_java(pattern)}', ';j')")
    assert str(a) == str(b) == ("false" if value.endswith("\n") else "true")
