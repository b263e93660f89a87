"""Finding texts come from the catalogue (mock_remd/catalog/findings.py), not from the modules that find.

Two source scans, no documents: (1) the converted modules hold no Cyrillic string literal outside their
docstrings, texts for the log (log.*) and an explicit allow-list of data that is not a
message (rule provenance, words recognised in stored texts, name folding);
(2) every call that fills a catalogue template (``finding_text``/``findings.text``, a template bound with
``FINDINGS[key].format``, ``errors.message``) passes exactly the names the template needs.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from mock_remd.catalog import errors
from mock_remd.catalog.findings import FINDINGS, fields

PACKAGE = Path(__file__).resolve().parents[1] / "mock_remd"
CYRILLIC = re.compile("[\u0400-\u04ff]")

#: module -> (top-level names whose values are data, not messages; literals allowed anywhere in it)
CONVERTED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # CROSS_RULES: where each rule comes from (NSI columns, registry texts quoted as evidence)
    "validation/layers/cross_layer.py": (frozenset({"CrossRule", "_MSG", "_PROTO", "CROSS_RULES"}),
                                         frozenset({"ё", "е"})),
    "validation/cda/access.py": (frozenset(), frozenset()),
    "validation/layers/signatures_layer.py": (frozenset(), frozenset()),
    "validation/signatures/cms.py": (frozenset(), frozenset()),
    "validation/signatures/wsse.py": (frozenset(), frozenset()),
    "validation/cda/checker.py": (frozenset(), frozenset()),
    # HEADER_RULES: where each rule comes from (rule modules of the Минздрав packs, registry texts)
    "validation/cda/header_rules.py": (frozenset({"_PACK", "HEADER_RULES"}), frozenset()),
    "validation/layers/kind_layer.py": (frozenset(), frozenset()),
    "validation/layers/xml_layer.py": (frozenset(), frozenset()),
    "validation/layers/xsd_layer.py": (frozenset(), frozenset()),
    "validation/layers/schematron_layer.py": (frozenset(), frozenset()),
    # _CHECKSUM_WORDS: words of catalogue text cda.snils_checksum the layer recognises a finding by
    "validation/layers/header_layer.py": (frozenset({"_CHECKSUM_WORDS"}), frozenset()),
    "validation/layers/nsi_layer.py": (frozenset(), frozenset()),
    "validation/nsi/check.py": (frozenset(), frozenset()),
    "validation/xsd_messages.py": (frozenset(), frozenset()),
    # _RULE_ID: the requirement ids of the official packs (У1-15) the runner reads from assert texts
    "validation/schematron/runner.py": (frozenset({"_RULE_ID"}), frozenset()),
    "validation/pipeline.py": (frozenset(), frozenset()),
    "validation/cda/pack_requirements.py": (frozenset(), frozenset()),
    # PUBLISHED_SOURCE: the name of a published pack (a provenance, not a sentence)
    "validation/cda/published_requirements.py": (frozenset({"PUBLISHED_SOURCE"}), frozenset()),
    "validation/caches.py": (frozenset(), frozenset()),
    # _CAUSES: words of skip reasons stored by older versions, recognised to give them a cause
    "validation/report.py": (frozenset({"_CAUSES"}), frozenset()),
    "core/lifecycle.py": (frozenset(), frozenset()),
    "core/processing.py": (frozenset(), frozenset()),
    "delivery/pull.py": (frozenset(), frozenset()),
    "delivery/sender.py": (frozenset(), frozenset()),
    "gost/certs.py": (frozenset(), frozenset({"ё", "е"})),
    "core/coarse_checks.py": (frozenset(), frozenset()),
    "core/registry.py": (frozenset(), frozenset()),
    "domain/behaviour.py": (frozenset(), frozenset()),
    # LABELS: the attribute types' names of Приказ ФСБ № 795 (СНИЛС, ОГРН …), data shown as in certificates
    "gost/names.py": (frozenset({"LABELS"}), frozenset()),
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _data_nodes(tree: ast.Module, names: frozenset[str]) -> set[int]:
    ids: set[int] = set()
    for node in tree.body:
        targets: list[str] = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        elif isinstance(node, ast.ClassDef):
            targets = [node.name]
        if set(targets) & names:
            ids.update(id(n) for n in ast.walk(node))
    return ids


#: calls whose text is for the log only (a ServerFault's message is shown on /ready: not among them)
LOGGED = frozenset({"log.debug", "log.info", "log.warning", "log.error", "log.exception"})


def _logged_nodes(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in LOGGED:
            ids.update(id(n) for n in ast.walk(node))
    return ids


def cyrillic_literals(rel: str) -> list[str]:
    """``line: literal`` for each Cyrillic string literal of ``rel`` that is neither a docstring, a text for
    the log, nor allowed."""
    names, allowed = CONVERTED[rel]
    tree = ast.parse((PACKAGE / rel).read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _data_nodes(tree, names) | _logged_nodes(tree)
    return [f"{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CYRILLIC.search(node.value)
            and id(node) not in skip and node.value not in allowed]


@pytest.mark.parametrize("rel", sorted(CONVERTED))
def test_no_message_literal_outside_the_catalogue(rel: str) -> None:
    assert cyrillic_literals(rel) == []


def test_the_scan_sees_a_message_literal(tmp_path: Path) -> None:
    """The scan itself: an f-string message in a converted module is caught, its docstring is not."""
    source = '"""Модуль."""\ndef f(x):\n    """Функция."""\n    return f"Значение [{x}] недопустимо"\n'
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and CYRILLIC.search(n.value) and id(n) not in skip]
    assert found == ["Значение [", "] недопустимо"]


# ---- fields filled at each call site ----------------------------------------------------------------
def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "catalog" not in p.relative_to(PACKAGE).parts[:1])


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""


def _bound(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = FINDINGS["key"].format``: name -> key."""
    out: dict[str, str] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Attribute) and node.value.attr == "format"
                and isinstance(node.value.value, ast.Subscript) and isinstance(node.value.value.slice, ast.Constant)):
            out[node.targets[0].id] = node.value.value.slice.value
    return out


def _calls() -> tuple[list[tuple[str, str, frozenset[str] | None]], list[tuple[str, str]], set[str]]:
    """(site, key, passed names or None for ``**``) of literal-key calls; (site, key) of templates
    reached through a variable; every FINDINGS key written anywhere outside the catalogue."""
    literal: list[tuple[str, str, frozenset[str] | None]] = []
    indirect: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in _modules():
        rel = str(path.relative_to(PACKAGE))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound = _bound(tree)
        seen.update(bound.values())
        direct_keys: set[int] = set()
        variable_calls: list[frozenset[str]] = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            names = None if any(k.arg is None for k in node.keywords) else frozenset(k.arg for k in node.keywords)
            site = f"{rel}:{node.lineno}"
            if name in ("finding_text", "findings.text", "errors.message"):
                catalogue = "errors" if name == "errors.message" else "findings"
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    direct_keys.add(id(node.args[0]))
                    literal.append((site, f"{catalogue}:{node.args[0].value}", names))
                elif catalogue == "findings" and names is not None:
                    variable_calls.append(names)
            elif name in bound:
                literal.append((site, f"findings:{bound[name]}", names))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in FINDINGS:
                seen.add(node.value)
                if id(node) not in direct_keys and node.value not in bound.values():
                    ok = not fields(node.value) or any(fields(node.value) == names for names in variable_calls)
                    indirect.append((f"{rel}:{node.lineno}", node.value if ok else f"UNFILLED {node.value}"))
    return literal, indirect, seen


def _template_fields(key: str) -> frozenset[str]:
    catalogue, _, name = key.partition(":")
    if catalogue == "findings":
        return fields(name)
    template = errors.TEMPLATES.get(name, "")
    return frozenset(f for _t, f, _s, _c in string.Formatter().parse(template) if f)


def test_every_call_site_fills_its_template_exactly() -> None:
    literal, indirect, _seen = _calls()
    assert literal, "no call of the catalogue found: the scan is broken"
    wrong = [f"{site} {key}: passes {sorted(names)}, needs {sorted(_template_fields(key))}"
             for site, key, names in literal
             if names is not None and names != _template_fields(key)]
    unknown = [f"{site} {key}" for site, key, _n in literal
               if key.startswith("findings:") and key.partition(":")[2] not in FINDINGS]
    assert wrong == [] and unknown == []
    assert [f"{site} {key}" for site, key in indirect if key.startswith("UNFILLED")] == []


def test_every_finding_template_is_used() -> None:
    _literal, _indirect, seen = _calls()
    assert sorted(set(FINDINGS) - seen) == []
