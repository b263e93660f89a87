"""Layer ``schematron``: our compiler on the official packs, its cache, threads and fork."""

from __future__ import annotations

import json
import os
import select
import threading
from pathlib import Path

import pytest
from lxml import etree

from mock_remd.generator import generate
from mock_remd.validation.bench_layers import time_layers
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pipeline import Validator
from mock_remd.validation.precompile import precompile
from mock_remd.validation.schematron.cache import cache_key, clear_memory, compiled_for
from mock_remd.validation.schematron.compiler import compile_optimised, compile_reference
from mock_remd.validation.schematron.model import SchematronError, parse_schema
from mock_remd.validation.schematron.runner import (
    SchematronRunError,
    SchematronValidator,
    get_validator,
    rule_id,
)
from mock_remd.validation.schematron.xpath import (
    ALL_NODES,
    hoist_child_predicate,
    pattern_to_select,
    plan_branch,
    replace_current,
    split_steps,
    split_union,
)

SCH_LAYERS = frozenset({"xml", "kind", "schematron"})
EXPECTED_119 = ["У1-12", "У1-15", "У1-16", "У1-18", "У1-22", "У1-24", "Main05-1", "Core03-1", "Extra01-1"]
KINDS = ("119", "174", "186", "204")


@pytest.fixture(scope="session")
def sch_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schematron-cache")


@pytest.fixture(scope="session")
def compiled_packs(packs_dir: Path, sch_cache: Path) -> dict:
    """Every pack compiled once for the session (XSLT cached on disk in a temporary directory)."""
    return precompile(packs_dir, cache_dir=sch_cache)


@pytest.fixture(scope="session")
def sch_validator(packs_dir: Path, sch_cache: Path, compiled_packs: dict) -> Validator:
    settings = ValidationSettings(
        layers=SCH_LAYERS, packs_dir=packs_dir, options={"schematron_cache_dir": sch_cache}
    )
    return Validator(settings)


def _layer(validator: Validator, content: bytes, kind: str = "119"):
    layer = validator.validate(content, kind=kind).layer("schematron")
    assert layer is not None
    return layer


def test_all_packs_precompile(compiled_packs: dict) -> None:
    assert set(KINDS) <= set(compiled_packs)
    for kind in KINDS:
        assert compiled_packs[kind]["schematron"].endswith(f"{kind}.sch")


def test_valid_example_passes(sch_validator: Validator, valid_119_bytes: bytes) -> None:
    layer = _layer(sch_validator, valid_119_bytes)
    assert layer.ran and layer.passed, [f.message for f in layer.findings]
    assert layer.details["rules_fired"] > 100 and layer.details["rules"] > 300
    assert layer.details["compile_cache_hit"] in (True, False)


def test_invalid_example_fails_with_its_nine_asserts(sch_validator: Validator, examples_dir: Path) -> None:
    layer = _layer(sch_validator, (examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    assert layer.ran and not layer.passed
    assert [f.rule for f in layer.findings] == EXPECTED_119
    for f in layer.findings:
        assert f.code == "VALIDATION_ERROR"
        assert f.message.startswith(f"Ошибка валидации Schematron: {f.rule}")
        assert f.message.endswith(f". Путь: {f.path}")
        assert f.path.startswith("/ClinicalDocument[1]") and "Q{" not in f.path
    by_rule = {f.rule: f for f in layer.findings}
    assert by_rule["У1-22"].path == "/ClinicalDocument[1]/author[1]/time[1]"
    assert by_rule["У1-22"].line == 72 and by_rule["У1-15"].line == 10
    assert by_rule["Extra01-1"].path == "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]/id[2]"


def test_skipped_without_pack(valid_119_bytes: bytes, packs_dir: Path) -> None:
    none = (
        Validator(ValidationSettings(layers=SCH_LAYERS))
        .validate(valid_119_bytes, kind="119")
        .layer("schematron")
    )
    assert none is not None and not none.ran and "MOCK_REMD_PACKS_DIR" in none.reason
    settings = ValidationSettings(layers=frozenset({"xml", "schematron"}), packs_dir=packs_dir)
    other = Validator(settings).validate(valid_119_bytes, kind="12345").layer("schematron")
    assert other is not None and not other.ran and "12345" in other.reason


def test_disk_cache_is_keyed_by_content(packs_dir: Path, sch_cache: Path, compiled_packs: dict) -> None:
    data = (packs_dir / "119" / "119.sch").read_bytes()
    clear_memory()  # other tests may have compiled this pack into memory with another cache dir
    _, key, first = compiled_for(data, "optimised", sch_cache)
    assert first in ("disk", "compiled") and (sch_cache / "schematron" / f"{key}.json").is_file()
    clear_memory()
    compiled, key2, source = compiled_for(data, "optimised", sch_cache)
    assert source == "disk" and key2 == key
    again, _, source2 = compiled_for(data, "optimised", sch_cache)
    assert source2 == "memory" and again is compiled
    assert cache_key(data + b"\n<!-- changed -->", "optimised") != key
    assert cache_key(data, "reference") != key


# --- the optimised compilation gives what the textbook compilation gives -------------------------------


def _mutations(content: bytes) -> list[bytes]:
    """Deterministic broken variants: elements dropped, attributes dropped or changed, nodes duplicated."""
    out = []
    for step in (3, 7, 11, 17):
        root = etree.fromstring(content)
        elements = [e for e in root.iter() if isinstance(e.tag, str)][1:]
        for i, el in enumerate(elements):
            if i % step == 1 and el.getparent() is not None:
                if i % 2:
                    el.getparent().remove(el)
                else:
                    for name in list(el.attrib)[:1]:
                        el.set(name, el.get(name, "")[:-1] + "X")
        out.append(etree.tostring(root))
    root = etree.fromstring(content)
    for el in root.iter():
        if isinstance(el.tag, str):
            for name in ("nullFlavor",):
                el.attrib.pop(name, None)
            if el.get("value"):
                el.set("value", el.get("value", "") + "00")
    out.append(etree.tostring(root))
    root = etree.fromstring(content)
    for el in list(root)[:8]:
        root.append(etree.fromstring(etree.tostring(el)))  # duplicates out of order
    out.append(etree.tostring(root))
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_optimised_equals_reference(
    kind: str, packs_dir: Path, examples_dir: Path, compiled_packs: dict
) -> None:
    sch = packs_dir / kind / f"{kind}.sch"
    schema = parse_schema(sch.read_bytes())
    fast = get_validator(sch)
    slow = SchematronValidator(compile_reference(schema), label=f"reference {kind}")
    docs = [p.read_bytes() for p in sorted(examples_dir.glob("*.xml"))]
    docs += _mutations(docs[-1])
    findings_seen = 0
    for doc in docs:
        a, b = _outcome(fast, doc), _outcome(slow, doc)
        assert a == b
        findings_seen += len(a[0]) if a[0] != "error" else 0
    assert findings_seen > 20  # the comparison was not vacuous


def _outcome(validator: SchematronValidator, doc: bytes) -> tuple:
    """Findings and per-rule firing counts, or ``("error", ...)`` when the pack's XPath fails dynamically
    (e.g. ``matches()`` given two ids): both compilations must agree on that too."""
    try:
        result = validator.validate(doc)
    except SchematronRunError:
        return ("error", None)
    return ([f.as_dict() for f in result.findings], result.rule_counts)


def test_pipeline_timing_reports_each_layer(packs_dir: Path, valid_119_bytes: bytes, compiled_packs: dict) -> None:
    # Speed itself is measured by `make bench`; this only checks that the timing helper reports every layer.
    ms = time_layers(valid_119_bytes, "119", packs_dir, iterations=3)
    assert ms["schematron"] > 0 and ms["xsd"] > 0
    assert "signatures" not in ms
    assert ms["total"] > 0


# --- threads and fork --------------------------------------------------------------------------------


def _rules(validator: Validator, content: bytes) -> list[str]:
    return [f.rule for f in _layer(validator, content).findings]


def test_works_from_several_threads(
    sch_validator: Validator, examples_dir: Path, valid_119_bytes: bytes
) -> None:
    invalid = (examples_dir / "consultation-119-invalid-schematron.xml").read_bytes()
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(6):
                results.append(_rules(sch_validator, invalid if i % 2 else valid_119_bytes))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 36
    assert sorted(map(tuple, results)) == sorted([()] * 18 + [tuple(EXPECTED_119)] * 18)


def test_works_in_a_forked_child(sch_validator: Validator, examples_dir: Path) -> None:
    invalid = (examples_dir / "consultation-119-invalid-schematron.xml").read_bytes()
    assert _rules(sch_validator, invalid) == EXPECTED_119  # the parent has used Saxon already
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: reuse the parent's Validator object, then report and leave at once
        os.close(read_fd)
        try:
            payload = json.dumps({"rules": _rules(sch_validator, invalid), "pid": os.getpid()})
        except BaseException as exc:
            payload = json.dumps({"error": repr(exc)})
        os.write(write_fd, payload.encode())
        os._exit(0)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 120)
        assert ready, "the forked child did not answer"
        chunks = []
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    answer = json.loads(b"".join(chunks))
    assert answer.get("rules") == EXPECTED_119, answer
    assert answer["pid"] != os.getpid()


# --- the compiler on small, hand-written schemas -----------------------------------------------------

TINY = """<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="x" uri="urn:x"/>
  <let name="limit" value="2"/>
  <pattern>
    <rule context="ClinicalDocument/item[@kind='a']">
      <let name="n" value="number(@n)"/>
      <assert test="$n le $limit">T1-1. item <value-of select="@n"/> is above <value-of select="$limit"/> in <name/></assert>
    </rule>
    <rule context="ClinicalDocument/item">
      <report test="true()">T1-2. shadowed for kind a, fires for the others</report>
    </rule>
  </pattern>
  <pattern>
    <rule context="//x:ext | //item[2]">
      <assert test="false()">(Требование: T2-1) every x:ext and the second item</assert>
    </rule>
  </pattern>
</schema>""".encode()

TINY_DOC = (
    b'<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:x="urn:x"><item kind="a" n="1"/><item kind="a" n="5"/>'
    b'<item kind="b" n="9"><x:ext/></item></ClinicalDocument>'
)


@pytest.mark.parametrize("compile_", [compile_optimised, compile_reference])
def test_tiny_schema_semantics(compile_) -> None:
    result = SchematronValidator(compile_(parse_schema(TINY))).validate(TINY_DOC)
    got = [(f.rule, f.path, f.message) for f in result.findings]
    assert got == [
        (
            "T1-1",
            "/ClinicalDocument[1]/item[2]",
            "Ошибка валидации Schematron: T1-1. item 5 is above 2 in item. Путь: /ClinicalDocument[1]/item[2]",
        ),
        (
            "T1-2",
            "/ClinicalDocument[1]/item[3]",
            "Ошибка валидации Schematron: T1-2. shadowed for kind a, fires for the others. Путь: /ClinicalDocument[1]/item[3]",
        ),
        (
            "T2-1",
            "/ClinicalDocument[1]/item[2]",
            "Ошибка валидации Schematron: (Требование: T2-1) every x:ext and the second item. Путь: /ClinicalDocument[1]/item[2]",
        ),
        (
            "T2-1",
            "/ClinicalDocument[1]/item[3]/x:ext[1]",
            "Ошибка валидации Schematron: (Требование: T2-1) every x:ext and the second item. Путь: /ClinicalDocument[1]/item[3]/x:ext[1]",
        ),
    ]
    assert result.rule_counts == {0: 2, 1: 1, 2: 2}


XPATH31 = b"""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <pattern>
    <rule context="ClinicalDocument/code">
      <assert test="@codeSystem=['1.2.643.5.1.13.13.99.2.197','1.2.643.5.1.13.13.11.1379']">A1-1. codeSystem from the array.</assert>
      <assert test="count(../item)=(1,2)">A1-2. one or two items.</assert>
      <assert test="not(@code=('X','Y'))">A1-3. code not X or Y.</assert>
    </rule>
  </pattern>
</schema>"""


@pytest.mark.parametrize("compile_", [compile_optimised, compile_reference])
def test_xpath31_arrays_and_sequences_in_official_asserts(compile_) -> None:
    """The official packs compare with XPath 3.1 arrays (``@codeSystem=['…','…']``, 6000+ asserts) and
    sequences (``count(x)=(1,2)``): general comparisons atomise both, as Saxon does."""
    v = SchematronValidator(compile_(parse_schema(XPATH31)))
    good = (b'<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="A" codeSystem="1.2.643.5.1.13.13.11.1379"/>'
            b'<item/><item/></ClinicalDocument>')
    assert v.validate(good).findings == [] and v.failures(good) == []
    bad = (b'<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="Y" codeSystem="1.2.643.5.1.13.13.99.2.166"/>'
           b'<item/><item/><item/></ClinicalDocument>')
    assert [f.rule for f in v.validate(bad).findings] == ["A1-1", "A1-2", "A1-3"]
    assert v.failures(bad) == [(0, "/Q{}ClinicalDocument[1]/Q{}code[1]"), (1, "/Q{}ClinicalDocument[1]/Q{}code[1]"),
                               (2, "/Q{}ClinicalDocument[1]/Q{}code[1]")]


def test_unsupported_schematron_is_refused() -> None:
    with pytest.raises(SchematronError, match="extends"):
        parse_schema(
            b'<schema xmlns="http://purl.oclc.org/dsdl/schematron"><pattern><rule context="a">'
            b'<extends rule="r"/></rule></pattern></schema>'
        )
    with pytest.raises(SchematronError, match="queryBinding"):
        parse_schema(b'<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt"/>')


def test_doctype_is_refused_before_saxon() -> None:
    from mock_remd.xmlsafe import UnsafeXmlError

    v = SchematronValidator(compile_optimised(parse_schema(TINY)))
    with pytest.raises(UnsafeXmlError):
        v.validate(
            b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument>&e;</ClinicalDocument>'
        )


def test_xpath_splitting() -> None:
    assert split_union("//a[x|y] | b[@c='|'] |c") == ["//a[x|y]", "b[@c='|']", "c"]
    assert pattern_to_select("ClinicalDocument/id") == "//ClinicalDocument/id"
    assert pattern_to_select("/ClinicalDocument") == "/ClinicalDocument"
    assert split_steps("//ClinicalDocument[code/@code='5']/component/section[a/b]") == [
        "//ClinicalDocument[code/@code='5']",
        "component",
        "section[a/b]",
    ]
    assert split_steps("//a//b") is None and split_steps("//a/../b") is None and split_steps("//a/@b") is None
    assert rule_id("У1-15. Дата") == "У1-15" and rule_id("(Требование: У1-3) Элемент") == "У1-3"
    assert rule_id("У1-4.1.1.1: Элемент") == "У1-4.1.1.1" and rule_id("Общие ограничения. Элемент") == ""


# --- contexts whose meaning as a match pattern differs from a select expression ----------------------

CURRENT_SCH = b"""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <pattern>
    <rule context="ClinicalDocument/item[count(../ref[matches(@n, current()/@n)]) = 0]">
      <report test="true()">C1-1. item <value-of select="@n"/> has no ref</report>
    </rule>
  </pattern>
  <pattern>
    <rule context="item[../ref/@n = current()/@n][2]">
      <report test="true()">C1-2. never: current() is the matched item while its siblings are filtered</report>
    </rule>
  </pattern>
  <pattern>
    <rule context="ClinicalDocument[ref/@n = current()]/item/v">
      <report test="true()">C1-3. value <value-of select="."/> is a ref</report>
    </rule>
  </pattern>
  <pattern>
    <rule context="(ref | item)[@n = '3']">
      <report test="true()">C1-4. <name/> three</report>
    </rule>
    <rule context="ref | document-node()">
      <report test="true()">C1-5. other <name/></report>
    </rule>
  </pattern>
</schema>"""

CURRENT_DOC = (
    b'<ClinicalDocument xmlns="urn:hl7-org:v3"><ref n="1"/><ref n="3"/>'
    b'<item n="1"><v>1</v></item><item n="2"><v>3</v></item><item n="3"><v>9</v></item></ClinicalDocument>'
)


@pytest.mark.parametrize("compile_", [compile_optimised, compile_reference])
def test_current_in_rule_context_means_the_matched_node(compile_) -> None:
    """``current()`` in a context is the node being matched, in any step; parenthesised heads,
    ``document-node()`` and first-rule-wins work the same in both compilations."""
    result = SchematronValidator(compile_(parse_schema(CURRENT_SCH))).validate(CURRENT_DOC)
    got = [(f.rule, f.path, f.message.split(": ", 1)[1].split(" Путь")[0]) for f in result.findings]
    assert got == [
        ("C1-1", "/ClinicalDocument[1]/item[2]", "C1-1. item 2 has no ref."),
        ("C1-3", "/ClinicalDocument[1]/item[1]/v[1]", "C1-3. value 1 is a ref."),
        ("C1-3", "/ClinicalDocument[1]/item[2]/v[1]", "C1-3. value 3 is a ref."),
        ("C1-4", "/ClinicalDocument[1]/ref[2]", "C1-4. ref three."),
        ("C1-4", "/ClinicalDocument[1]/item[3]", "C1-4. item three."),
        ("C1-5", "/", "C1-5. other."),
        ("C1-5", "/ClinicalDocument[1]/ref[1]", "C1-5. other ref."),
    ]
    assert result.rule_counts == {0: 1, 2: 2, 3: 2, 4: 2}


def test_current_contexts_are_planned_per_branch() -> None:
    last = plan_branch("a/b[@c][count(../d[. = current()/@e]) = 0]")
    assert last.select == "//a/b[@c][let $_sx_current := . return (count(../d[. = $_sx_current/@e]) = 0)]"
    assert split_steps(last.select) is not None  # still shares prefixes with the other rules
    earlier = plan_branch("a[x = current()/@y][1]/b[2]")
    assert earlier.select is None and earlier.candidates == "//a/b[2]"  # the positional [1] goes too
    followed = plan_branch("a/b[@c][d = current()/@e][1]")  # [1] counts siblings filtered with one current()
    assert followed.select is None and followed.candidates == "//a/b[@c]"
    for pattern in ("key('k', 'v')", "(a | b)/c", "a union b", "$v/a", "document-node()", "f(a)/b"):
        assert plan_branch(pattern) == type(earlier)(candidates=ALL_NODES), pattern
    assert plan_branch("a/b[. = 'current()']").select == "//a/b[. = 'current()']"
    assert plan_branch("/").select == "/" and plan_branch("a//b/@c").select == "//a//b/@c"
    assert (
        replace_current("f(current(), 'current()', fn:current ( ))")
        == "f($_sx_current, 'current()', $_sx_current)"
    )


HOIST_SCH = b"""<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="x" uri="urn:x"/>
  <pattern>
    <rule context="//*[x:doc/x:date[not(@nullFlavor)]]">
      <assert test="false()">H1-1. <name/> has a dated x:doc.</assert>
    </rule>
    <rule context="//*[x:doc]">
      <assert test="false()">H1-2. <name/> has an undated x:doc.</assert>
    </rule>
  </pattern>
  <pattern>
    <rule context="//*[item[1]/v]">
      <assert test="false()">H2-1. <name/>: its first item has a v.</assert>
    </rule>
  </pattern>
  <pattern>
    <rule context="//*[item/@kind]">
      <assert test="false()">H3-1. <name/> has an item with a kind.</assert>
    </rule>
  </pattern>
</schema>"""

HOIST_DOC = (
    b'<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:x="urn:x"><item/><item kind="a"><v/></item>'
    b'<box><x:doc><x:date/></x:doc><x:doc><x:date/></x:doc><item><v/></item></box>'
    b'<box><x:doc><x:date nullFlavor="NI"/></x:doc><item kind="b"/></box>'
    b'<x:doc><x:date nullFlavor="NI"/><x:date/></x:doc></ClinicalDocument>'
)


def test_hoisted_child_predicates_match_the_same_nodes() -> None:
    """``//*[a/b]`` runs as ``//a[b]/parent::*`` (names instead of a predicate on every element):
    the same nodes, once each, in document order, first-rule-wins kept."""
    assert (hoist_child_predicate("//*[identity:IdentityDoc/identity:IssueDate[not(@nullFlavor)]]")
            == "//identity:IdentityDoc[identity:IssueDate[not(@nullFlavor)]]/parent::*")
    assert hoist_child_predicate("//*[a[1]/@b]") == "//a[1][@b]/parent::*"
    for kept in ("//*[a][b]", "//*[@a]", "//*[a=1]", "//*[a or b]", "//*[a//b]", "//*[text()]",
                 "//*[a/count(b)]", "//*[a[x]|b[y]]", "//x[a]", "//*[a/@b/c]", "//*[a]/b"):
        assert hoist_child_predicate(kept) == kept, kept
    schema = parse_schema(HOIST_SCH)
    fast = compile_optimised(schema)
    assert fast.xslt.count("/parent::*") == 4
    got = SchematronValidator(fast).validate(HOIST_DOC)
    want = SchematronValidator(compile_reference(schema)).validate(HOIST_DOC)
    assert [f.as_dict() for f in got.findings] == [f.as_dict() for f in want.findings]
    assert got.rule_counts == want.rule_counts == {0: 2, 1: 1, 2: 1, 3: 2}  # item[1] is the first item


def _extra04_document() -> tuple[bytes, bytes]:
    """A generated 186 document, and a copy whose section performers are not in documentationOf and
    whose first such assignedEntity lacks code and assignedPerson (Extra04-1)."""
    content = generate("186", seed=0, signer=None).content
    root = etree.fromstring(content)
    ns = {"h": "urn:hl7-org:v3"}
    ids = root.xpath("//h:performer[ancestor::h:section]/h:assignedEntity/h:id", namespaces=ns)
    assert len(ids) >= 2
    for i, el in enumerate(ids):
        el.set("extension", f"NOT-IN-DOCUMENTATION-OF-{i}")
    entity = ids[0].getparent()
    for name in ("code", "assignedPerson"):
        for el in entity.findall(f"h:{name}", ns):
            entity.remove(el)
    return content, etree.tostring(root)


def test_186_pack_current_context(packs_dir: Path, compiled_packs: dict) -> None:
    """Extra04-1 (``current()`` in a rule context) runs, and fires exactly where the reference does."""
    sch = packs_dir / "186" / "186.sch"
    schema = parse_schema(sch.read_bytes())
    rules = [i for i, r in enumerate(schema.rules()) if "current()" in r.context]
    assert rules, "186.sch no longer has a current() context"
    fast = get_validator(sch)
    slow = SchematronValidator(compile_reference(schema), label="reference 186")
    valid, broken = _extra04_document()
    assert fast.validate(valid).findings == []
    assert _outcome(fast, valid) == _outcome(slow, valid)
    result = fast.validate(broken)
    assert _outcome(fast, broken) == _outcome(slow, broken)
    performers = len(
        etree.fromstring(broken).xpath("//*[local-name()='performer'][ancestor::*[local-name()='section']]")
    )
    assert result.rule_counts.get(rules[0]) == performers
    extra = [f for f in result.findings if f.rule == "Extra04-1"]
    assert len(extra) == 2 and all("performer/assignedEntity" in f.message for f in extra)
    assert {f.path for f in extra} == {extra[0].path} and extra[0].path.endswith("/id[1]")


def test_default_namespace_removed_as_the_official_validator_does() -> None:
    """Every ``xmlns="urn:hl7-org:v3"`` preceded by white space goes, with that white space; nothing else."""
    from mock_remd.validation.schematron.runner import strip_default_namespace

    doc = (b'\xef\xbb\xbf<a xmlns="urn:hl7-org:v3"><b\txmlns = \'urn:hl7-org:v3\'/><c xmlns="urn:hl7-org:v3"'
           b'xmlns="urn:hl7-org:v3"/> xmlns="urn:hl7-org:v3" x:xmlns="urn:hl7-org:v3" xmlns="urn:hl7-org:v3\'</a>')
    assert strip_default_namespace(doc) == (
        '<a><b/><cxmlns="urn:hl7-org:v3"/> x:xmlns="urn:hl7-org:v3" xmlns="urn:hl7-org:v3\'</a>'
    )
    assert strip_default_namespace(b"<a/>") == "<a/>"
