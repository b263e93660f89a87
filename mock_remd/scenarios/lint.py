"""Checking scenario files and compiling them into :class:`~mock_remd.scenarios.model.Scenario`.

Every mistake becomes an :class:`~mock_remd.scenarios.loader.Issue` naming the file, the line and
the key path (``rules[2].sync.drop``; rules are numbered from 1). The same checks guard
``mock-remd scenarios lint`` and ``POST /_admin/scenarios``. Error codes are checked against the
classifier (NSI 1.2.643.5.1.13.13.99.2.305).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from mock_remd.catalog import errors as catalogue
from mock_remd.catalog import user_messages as um
from mock_remd.catalog.incidents import safe_text
from mock_remd.catalog.user_messages import Text
from mock_remd.domain.actions import DEFAULT_FAULT, FAULT_CODE_RE, Action, actions_of
from mock_remd.domain.model import snils_digits
from mock_remd.scenarios.loader import Issue, Node, ScenarioSyntaxError, parse_text
from mock_remd.scenarios.model import OPERATIONS, Match, Rule, Scenario
from mock_remd.yamlsafe import DEFAULT_LIMITS, YamlLimitError, too_large

T = TypeVar("T")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
TOP_KEYS = ("name", "description", "description_ru", "seed", "rules")
RULE_KEYS = ("match", "sync", "callback", "name", "description")
MATCH_KEYS = ("operation", "system", "kind", "organization", "patient_snils", "local_uid", "document_number",
              "nth", "probability", "attempt")
FAULT_KEYS = ("code", "reason")


def _type_name(node: Node) -> Text:
    """What the node holds, for "expected …, got …" (rendered in the reader's language)."""
    if node.kind == "map":
        return um.text("lint.type.map")
    if node.kind == "list":
        return um.text("lint.type.list")
    v = node.value
    if v is None:
        return um.text("lint.type.null")
    if isinstance(v, bool):
        return um.text("lint.type.bool", value=str(v).lower())
    if isinstance(v, (int, float)):
        return um.text("lint.type.number", value=v)
    return um.text("lint.type.other", type=type(v).__name__, value=repr(v))


class _Checker:
    """Walks one document, collecting issues and building the model."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []

    # ---- reporting -----------------------------------------------------------------------------
    def err(self, key: str, line: int | None, message: Text | str) -> None:
        self.issues.append(Issue(message, key=key, line=line, file=self.file))

    def keys(self, node: Node, key: str, allowed: tuple[str, ...]) -> None:
        for name, line in node.duplicates:
            self.err(f"{key}.{name}" if key else name, line, um.text("lint.twice"))
        for name, line in node.keys.items():
            if name not in allowed:
                self.err(f"{key}.{name}" if key else name, line,
                         um.text("lint.unknown_key", name=repr(name), allowed=", ".join(allowed)))

    def mapping(self, node: Node | None, key: str) -> Node | None:
        if node is None:
            return None
        if node.kind != "map":
            self.err(key, node.line, um.text("lint.want_map", got=_type_name(node)))
            return None
        return node

    # ---- scalars -------------------------------------------------------------------------------
    def integer(self, node: Node, key: str, *, low: int, high: int | None = None) -> int | None:
        v = node.value
        if node.kind != "scalar" or isinstance(v, bool) or not isinstance(v, int):
            self.err(key, node.line, um.text("lint.want_int", got=_type_name(node)))
            return None
        if v < low or (high is not None and v > high):
            self.err(key, node.line, um.text("lint.want_between", low=low, high=high, value=v) if high is not None
                     else um.text("lint.want_at_least", low=low, value=v))
            return None
        return v

    def boolean(self, node: Node, key: str) -> bool | None:
        if node.kind != "scalar" or not isinstance(node.value, bool):
            self.err(key, node.line, um.text("lint.want_bool", got=_type_name(node)))
            return None
        return node.value

    def string(self, node: Node, key: str, *, allow_numbers: bool = False) -> str | None:
        v = node.value
        if node.kind == "scalar" and isinstance(v, str):
            return v
        if allow_numbers and node.kind == "scalar" and isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        self.err(key, node.line, um.text("lint.want_str", got=_type_name(node)))
        return None

    def strings(self, node: Node, key: str, *, allow_numbers: bool = False) -> tuple[str, ...] | None:
        """A value or a list of values."""
        if node.kind == "list":
            out = []
            if not node.elements:
                self.err(key, node.line, um.text("lint.empty_list"))
                return None
            for i, e in enumerate(node.elements):
                s = self.string(e, f"{key}[{i + 1}]", allow_numbers=allow_numbers)
                if s is None:
                    return None
                out.append(s)
            return tuple(out)
        s = self.string(node, key, allow_numbers=allow_numbers)
        return None if s is None else (s,)

    def regex(self, node: Node, key: str, flags: int = 0) -> re.Pattern[str] | None:
        s = self.string(node, key, allow_numbers=True)
        if s is None:
            return None
        try:
            return re.compile(s, flags)
        except re.error as exc:
            self.err(key, node.line, um.text("lint.bad_regex_at", value=repr(s), pos=exc.pos) if exc.pos is not None
                     else um.text("lint.bad_regex", value=repr(s)))
            return None

    # ---- blocks --------------------------------------------------------------------------------
    def error_items(self, node: Node, key: str) -> list[dict[str, str]] | None:
        if node.kind != "list":
            self.err(key, node.line, um.text("lint.want_errors", got=_type_name(node)))
            return None
        if not node.elements:
            self.err(key, node.line, um.text("lint.no_errors"))
            return None
        out: list[dict[str, str]] = []
        ok = True
        for i, e in enumerate(node.elements):
            k = f"{key}[{i + 1}]"
            if e.kind == "scalar" and isinstance(e.value, str):  # shorthand: just the code
                code, text = e.value, None
                code_line = e.line
            elif e.kind == "map":
                self.keys(e, k, ("code", "message"))
                if "code" not in e.items:
                    self.err(k, e.line, um.text("lint.error_no_code"))
                    ok = False
                    continue
                code = self.string(e.items["code"], f"{k}.code")
                code_line = e.items["code"].line
                text = self.string(e.items["message"], f"{k}.message") if "message" in e.items else None
                if code is None:
                    ok = False
                    continue
            else:
                self.err(k, e.line, um.text("lint.want_error_item", got=_type_name(e)))
                ok = False
                continue
            if not catalogue.is_known(code):
                self.err(f"{k}.code", code_line,
                         um.text("lint.unknown_code", code=repr(code)))
                ok = False
                continue
            item = {"code": code}
            if text is not None:
                item["message"] = text
            out.append(item)
        return out if ok else None

    def match(self, node: Node | None, key: str) -> tuple[Match, set[str]]:
        m = Match()
        node = self.mapping(node, key)
        if node is None:
            return m, set()
        self.keys(node, key, MATCH_KEYS)
        it = node.items
        if "operation" in it:
            ops = self.strings(it["operation"], f"{key}.operation")
            if ops is not None:
                bad = [o for o in ops if o not in OPERATIONS]
                if bad:
                    self.err(f"{key}.operation", it["operation"].line,
                             um.text("lint.unknown_operation", value=repr(bad[0]), allowed=", ".join(OPERATIONS)))
                else:
                    m.operation = ops
        for name in ("system", "kind", "organization"):
            if name in it:
                m_values = self.strings(it[name], f"{key}.{name}", allow_numbers=True)
                if m_values is not None:
                    setattr(m, name, tuple(v.strip() for v in m_values))
        if "patient_snils" in it:
            values = self.strings(it["patient_snils"], f"{key}.patient_snils", allow_numbers=True)
            if values is not None:
                digits = tuple(snils_digits(v) for v in values)
                bad = [v for v, d in zip(values, digits, strict=True) if len(d) != 11]
                if bad:
                    self.err(f"{key}.patient_snils", it["patient_snils"].line,
                             um.text("lint.bad_snils", value=repr(bad[0])))
                else:
                    m.patient_snils = digits
        if "local_uid" in it:
            m.local_uid = self.regex(it["local_uid"], f"{key}.local_uid", re.IGNORECASE)
        if "document_number" in it:
            m.document_number = self.regex(it["document_number"], f"{key}.document_number")
        if "nth" in it:
            m.nth = self.integer(it["nth"], f"{key}.nth", low=1)
        if "probability" in it:
            p = it["probability"]
            if p.kind != "scalar" or isinstance(p.value, bool) or not isinstance(p.value, (int, float)):
                self.err(f"{key}.probability", p.line, um.text("lint.want_probability", got=_type_name(p)))
            elif not 0.0 <= float(p.value) <= 1.0:
                self.err(f"{key}.probability", p.line, um.text("lint.want_probability", got=p.value))
            else:
                m.probability = float(p.value)
        if "attempt" in it:
            a = it["attempt"]
            values_n: list[int] = []
            for i, e in enumerate(a.elements if a.kind == "list" else [a]):
                n = self.integer(e, f"{key}.attempt" + (f"[{i + 1}]" if a.kind == "list" else ""), low=1)
                if n is not None:
                    values_n.append(n)
            if a.kind == "list" and not a.elements:
                self.err(f"{key}.attempt", a.line, um.text("lint.no_attempts"))
            m.attempt = tuple(values_n)
        return m, set(it)

    # ---- action blocks (the table in domain/actions.py) --------------------------------------------
    def fault(self, node: Node, key: str) -> dict[str, str] | None:
        f = self.mapping(node, key)
        if f is None:
            return None
        self.keys(f, key, FAULT_KEYS)
        fault = dict(DEFAULT_FAULT)
        if "code" in f.items:
            code = self.string(f.items["code"], f"{key}.code")
            if code is not None and not FAULT_CODE_RE.match(code):
                self.err(f"{key}.code", f.items["code"].line,
                         um.text("lint.fault_code", value=repr(code)))
            elif code is not None:
                fault["code"] = code
        if "reason" in f.items:
            reason = self.string(f.items["reason"], f"{key}.reason")
            if reason is not None:
                fault["reason"] = reason
        return fault

    def choice(self, node: Node, key: str, choices: tuple[str, ...]) -> str | None:
        raw = node.value
        # YAML reads a bare 1.2 as a number: a choice of numbers-as-text takes it as written
        v = str(raw) if node.kind == "scalar" and isinstance(raw, float) else self.string(node, key)
        if v is not None and v not in choices:
            quoted = [f'"{c}"' if c[:1].isdigit() else c for c in choices]
            alternatives = " or ".join(quoted) if len(quoted) < 3 else f"one of: {', '.join(quoted)}"
            self.err(key, node.line, um.text("lint.want_choice", alternatives=alternatives, value=repr(v)))
            return None
        return v

    def action(self, a: Action, node: Node, key: str) -> Any:
        """The value of one action, checked as its table row says (None after an issue)."""
        if a.kind == "integer":
            return self.integer(node, key, low=a.low or 0, high=a.high)
        if a.kind == "boolean":
            return self.boolean(node, key)
        if a.kind == "text":
            return self.string(node, key, allow_numbers=True)
        if a.kind == "choice":
            return self.choice(node, key, a.choices)
        if a.kind == "errors":
            return self.error_items(node, key)
        if a.kind == "fault":
            return self.fault(node, key)
        return self.block(node, key, a.nested)

    def block(self, node: Node | None, key: str, block: str) -> dict[str, Any]:
        """One action block (``sync``, ``callback``, ``callback.fremd``): its keys, values and combinations."""
        node = self.mapping(node, key)
        if node is None:
            return {}
        actions = actions_of(block)
        self.keys(node, key, tuple(a.key for a in actions))
        it, out = node.items, {}
        for a in actions:
            if a.key in it:
                v = self.action(a, it[a.key], f"{key}.{a.key}")
                if v is not None:
                    out[a.key] = v
        replacing = [a.key for a in actions if a.exclusive and a.key in it]
        if len(replacing) > 1:
            self.err(key, node.line, um.text("lint.replacing", keys=um.text(
                "lint.and", first=", ".join(replacing[:-1]), last=replacing[-1])))
        if block == "sync" and "http_status" in it and ("errors" in it or "drop" in it):
            other = "errors" if "errors" in it else "drop"
            self.err(f"{key}.http_status", it["http_status"].line,
                     um.text("lint.http_status_with", other=other))
        if out.get("status") == "success" and "errors" in it:
            self.err(f"{key}.errors", it["errors"].line, um.text("lint.success_errors"))
        return out

    def sync(self, node: Node | None, key: str) -> dict[str, Any]:
        return self.block(node, key, "sync")

    def callback(self, node: Node | None, key: str) -> dict[str, Any]:
        return self.block(node, key, "callback")

    def rule(self, node: Node, number: int) -> Rule | None:
        key = f"rules[{number}]"
        if self.mapping(node, key) is None:
            return None
        self.keys(node, key, RULE_KEYS)
        it = node.items
        match, _given = self.match(it.get("match"), f"{key}.match")
        sync = self.sync(it.get("sync"), f"{key}.sync")
        callback = self.callback(it.get("callback"), f"{key}.callback")
        if "sync" not in it and "callback" not in it:
            self.err(key, node.line, um.text("lint.rule_noop"))
        if match.operation and "registerDocument" not in match.operation and "callback" in it:
            self.err(f"{key}.callback", node.keys.get("callback"),
                     um.text("lint.no_callback_op", operations="/".join(match.operation)))
        if match.attempt and match.operation and "registerDocument" not in match.operation:
            self.err(f"{key}.match.attempt", it["match"].keys.get("attempt"),
                     um.text("lint.attempt_op"))
        name = self.string(it["name"], f"{key}.name", allow_numbers=True) if "name" in it else ""
        desc = self.string(it["description"], f"{key}.description") if "description" in it else ""
        return Rule(number=number, line=node.line, match=match, sync=sync, callback=callback,
                    name=name or "", description=desc or "")

    # ---- a whole document (a scenario here, a conformance plan in conformance/plan.py) ------------
    def head(self, root: Node, what: Text, shape: Text, top_keys: tuple[str, ...]) -> str | None:
        """Check a document's top mapping and its ``name``; the name, or None after an issue."""
        if root.kind != "map":
            self.err("", root.line, um.text("lint.want_document", what=what, shape=shape, got=_type_name(root)))
            return None
        self.keys(root, "", top_keys)
        it = root.items
        if "name" not in it:
            self.err("name", root.line, um.text("lint.needs_name", what=what))
            return None
        name = self.string(it["name"], "name", allow_numbers=True)
        if name is not None and not NAME_RE.match(name):
            self.err("name", it["name"].line,
                     um.text("lint.bad_name", value=repr(name)))
            return None
        return name

    def text(self, it: dict[str, Node], key: str) -> str:
        """An optional text key of a mapping ("" when absent or wrong)."""
        return (self.string(it[key], key) or "") if key in it else ""

    def elements(self, root: Node, key: str, needs: Text, what: Text,
                 each: Callable[[Node, int], T | None]) -> list[T]:
        """The non-empty list under ``key``, each element read by ``each(node, number)`` (from 1)."""
        node = root.items.get(key)
        if node is None:
            self.err(key, root.line, needs)
            return []
        if node.kind != "list":
            self.err(key, node.line, um.text("lint.want_list_of", what=what, got=_type_name(node)))
            return []
        if not node.elements:
            self.err(key, node.line, um.text("lint.empty_list_of", what=what))
            return []
        out = []
        for i, element in enumerate(node.elements):
            value = each(element, i + 1)
            if value is not None:
                out.append(value)
        return out

    def scenario(self, root: Node, source: str) -> Scenario | None:
        name = self.head(root, um.text("lint.what.scenario"), um.text("lint.shape.scenario"), TOP_KEYS)
        if root.kind != "map":
            return None
        it = root.items
        seed = self.integer(it["seed"], "seed", low=0) if "seed" in it else None
        rules = self.elements(root, "rules", um.text("lint.needs_rules"), um.text("lint.what.rules"), self.rule)
        if self.issues or name is None:
            return None
        # folded YAML (``>``) ends a text with a newline: shown and answered without it
        return Scenario(name=name, rules=rules, description=self.text(it, "description").strip(),
                        description_ru=self.text(it, "description_ru").strip(), seed=seed, source=source,
                        file=self.file)


def compile_document(text: str, checker: _Checker, build: Callable[[Node], T | None], *,
                     content_type: str = "") -> tuple[T | None, list[Issue]]:
    """Parse ``text`` (YAML or JSON) and build it with ``build``, a method of ``checker``; the result is
    None whenever there is an issue, the issues sorted by line."""
    try:
        root = parse_text(text, filename=checker.file, content_type=content_type)
    except ScenarioSyntaxError as exc:
        return None, [exc.issue]
    result = build(root)
    issues = sorted(checker.issues, key=lambda i: (i.line or 0, i.key))
    return (result if not issues else None), issues


def compile_text(text: str, *, filename: str = "", content_type: str = "") -> tuple[Scenario | None, list[Issue]]:
    """Check and compile one scenario document; the scenario is None whenever there is an issue."""
    checker = _Checker(filename)
    return compile_document(text, checker, lambda root: checker.scenario(root, text), content_type=content_type)


def scenario_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Issue]]:
    """The ``*.yaml``/``*.yml``/``*.json`` files named by ``paths`` (directories are listed, sorted)."""
    files: list[Path] = []
    issues: list[Issue] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in (".yaml", ".yml", ".json")))
        elif p.is_file():
            files.append(p)
        else:
            issues.append(Issue(um.text("lint.no_file"), file=str(p)))
    return files, issues


def read_scenario_file(path: Path) -> str:
    """The text of a scenario file; a file over the YAML size limit is refused before it is read.

    Raises :class:`OSError`, :class:`UnicodeDecodeError` or :class:`~mock_remd.yamlsafe.YamlLimitError`.
    """
    size = path.stat().st_size
    if size > DEFAULT_LIMITS.max_bytes:
        raise too_large(size)
    return path.read_text(encoding="utf-8")


def read_documents(files: Iterable[Path], issues: list[Issue]) -> Iterator[tuple[Path, str, str]]:
    """(file, text, content type) of each file that can be read; one that cannot becomes an issue."""
    for f in files:
        try:
            text = read_scenario_file(f)
        except YamlLimitError as exc:
            issues.append(Issue(um.yaml_what(exc), file=str(f)))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(Issue(um.text("lint.unreadable", reason=safe_text(exc, um.text("lint.not_readable"))), file=str(f)))
            continue
        yield f, text, ("application/json" if f.suffix.lower() == ".json" else "")


class _Named(Protocol):
    name: str


N = TypeVar("N", bound=_Named)


def compile_files(files: Iterable[Path], issues: list[Issue], compile_one: Callable[..., tuple[N | None, list[Issue]]],
                  what: str = "") -> list[N]:
    """Each readable file compiled by ``compile_one(text, filename=…, content_type=…)``; its issues join
    ``issues``, and so does a name (of a ``what``) already used by an earlier file."""
    out: list[N] = []
    seen: dict[str, Path] = {}
    for f, text, ctype in read_documents(files, issues):
        item, found = compile_one(text, filename=str(f), content_type=ctype)
        issues.extend(found)
        if item is None:
            continue
        if item.name in seen:
            used = um.text("lint.plan_name_used" if what == "plan" else "lint.name_used", name=repr(item.name),
                        other=str(seen[item.name]))
            issues.append(Issue(used, key="name", file=str(f)))
            continue
        seen[item.name] = f
        out.append(item)
    return out


def lint_paths(paths: Iterable[str | Path]) -> tuple[list[Scenario], list[Issue]]:
    """Lint every scenario file under ``paths``; also reports one name used by two files."""
    files, issues = scenario_files(paths)
    return compile_files(files, issues, compile_text), issues
