"""Checking scenario files and compiling them into :class:`~mock_remd.scenarios.model.Scenario`.

Every mistake becomes an :class:`~mock_remd.scenarios.loader.Issue` naming the file, the line and
the key path (``rules[2].sync.drop``; rules are numbered from 1). The same checks guard
``mock-remd scenarios lint`` and ``POST /_admin/scenarios``. Error codes are checked against the
classifier (NSI 1.2.643.5.1.13.13.99.2.305).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mock_remd.catalog import errors as catalogue
from mock_remd.catalog.incidents import safe_text
from mock_remd.catalog.user_messages import yaml_text
from mock_remd.domain.behaviour import (
    DROP_MODES,
    MAX_CALLBACK_DELAY_MS,
    MAX_HTTP_STATUS,
    MAX_REPEAT,
    MAX_SYNC_DELAY_MS,
    MIN_HTTP_STATUS,
)
from mock_remd.domain.model import snils_digits
from mock_remd.scenarios.loader import Issue, Node, ScenarioSyntaxError, parse_text
from mock_remd.scenarios.model import OPERATIONS, Match, Rule, Scenario
from mock_remd.yamlsafe import DEFAULT_LIMITS, YamlLimitError, too_large

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
TOP_KEYS = ("name", "description", "description_ru", "seed", "rules")
RULE_KEYS = ("match", "sync", "callback", "name", "description")
MATCH_KEYS = ("operation", "system", "kind", "organization", "patient_snils", "local_uid", "document_number",
              "nth", "probability", "attempt")
SYNC_KEYS = ("delay_ms", "errors", "fault", "http_status", "drop")
CALLBACK_KEYS = ("delay_ms", "status", "errors", "repeat", "repeat_interval_ms", "skip", "relates_to", "malformed",
                 "foreign_first", "soap_version", "fremd")
FREMD_KEYS = ("status", "errors", "delay_ms", "skip")
FAULT_KEYS = ("code", "reason")
FAULT_CODE_RE = re.compile(r"^(Sender|Receiver|Client|Server)(\.[A-Za-z0-9_.-]+)?$")


def _type_name(node: Node) -> str:
    if node.kind == "map":
        return "a mapping"
    if node.kind == "list":
        return "a list"
    v = node.value
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"a boolean ({str(v).lower()})"
    if isinstance(v, (int, float)):
        return f"a number ({v})"
    return f"{type(v).__name__} {v!r}"


class _Checker:
    """Walks one document, collecting issues and building the model."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []

    # ---- reporting -----------------------------------------------------------------------------
    def err(self, key: str, line: int | None, message: str) -> None:
        self.issues.append(Issue(message, key=key, line=line, file=self.file))

    def keys(self, node: Node, key: str, allowed: tuple[str, ...]) -> None:
        for name, line in node.duplicates:
            self.err(f"{key}.{name}" if key else name, line, "this key is given twice")
        for name, line in node.keys.items():
            if name not in allowed:
                self.err(f"{key}.{name}" if key else name, line,
                         f"unknown key {name!r}; expected one of: {', '.join(allowed)}")

    def mapping(self, node: Node | None, key: str) -> Node | None:
        if node is None:
            return None
        if node.kind != "map":
            self.err(key, node.line, f"expected a mapping, got {_type_name(node)}")
            return None
        return node

    # ---- scalars -------------------------------------------------------------------------------
    def integer(self, node: Node, key: str, *, low: int, high: int | None = None) -> int | None:
        v = node.value
        if node.kind != "scalar" or isinstance(v, bool) or not isinstance(v, int):
            self.err(key, node.line, f"expected a whole number, got {_type_name(node)}")
            return None
        if v < low or (high is not None and v > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.err(key, node.line, f"expected a number {bound}, got {v}")
            return None
        return v

    def boolean(self, node: Node, key: str) -> bool | None:
        if node.kind != "scalar" or not isinstance(node.value, bool):
            self.err(key, node.line, f"expected true or false, got {_type_name(node)}")
            return None
        return node.value

    def string(self, node: Node, key: str, *, allow_numbers: bool = False) -> str | None:
        v = node.value
        if node.kind == "scalar" and isinstance(v, str):
            return v
        if allow_numbers and node.kind == "scalar" and isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        self.err(key, node.line, f"expected a string, got {_type_name(node)}")
        return None

    def strings(self, node: Node, key: str, *, allow_numbers: bool = False) -> tuple[str, ...] | None:
        """A value or a list of values."""
        if node.kind == "list":
            out = []
            if not node.elements:
                self.err(key, node.line, "the list is empty: give at least one value or drop the key")
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
            where = f" (at position {exc.pos})" if exc.pos is not None else ""
            self.err(key, node.line, f"not a valid regular expression {s!r}{where}")
            return None

    # ---- blocks --------------------------------------------------------------------------------
    def error_items(self, node: Node, key: str) -> list[dict[str, str]] | None:
        if node.kind != "list":
            self.err(key, node.line, f"expected a list of {{code, message}}, got {_type_name(node)}")
            return None
        if not node.elements:
            self.err(key, node.line, "the list is empty: give at least one {code: ...}")
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
                    self.err(k, e.line, "an error item needs a code")
                    ok = False
                    continue
                code = self.string(e.items["code"], f"{k}.code")
                code_line = e.items["code"].line
                text = self.string(e.items["message"], f"{k}.message") if "message" in e.items else None
                if code is None:
                    ok = False
                    continue
            else:
                self.err(k, e.line, f"expected {{code: ..., message: ...}}, got {_type_name(e)}")
                ok = False
                continue
            if not catalogue.is_known(code):
                self.err(f"{k}.code", code_line,
                         f"unknown error code {code!r}: not in the REMD error classifier (NSI 1.2.643.5.1.13.13.99.2.305)")
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
                             f"unknown operation {bad[0]!r}; expected one of: {', '.join(OPERATIONS)}")
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
                             f"a SNILS has 11 digits (123-456-789 01 or 12345678901), got {bad[0]!r}")
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
                self.err(f"{key}.probability", p.line, f"expected a number from 0 to 1, got {_type_name(p)}")
            elif not 0.0 <= float(p.value) <= 1.0:
                self.err(f"{key}.probability", p.line, f"expected a number from 0 to 1, got {p.value}")
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
                self.err(f"{key}.attempt", a.line, "the list is empty: give at least one attempt number")
            m.attempt = tuple(values_n)
        return m, set(it)

    def sync(self, node: Node | None, key: str) -> dict[str, Any]:
        node = self.mapping(node, key)
        if node is None:
            return {}
        self.keys(node, key, SYNC_KEYS)
        it, out = node.items, {}
        if "delay_ms" in it:
            v = self.integer(it["delay_ms"], f"{key}.delay_ms", low=0, high=MAX_SYNC_DELAY_MS)
            if v is not None:
                out["delay_ms"] = v
        if "errors" in it:
            v = self.error_items(it["errors"], f"{key}.errors")
            if v is not None:
                out["errors"] = v
        if "fault" in it:
            f = self.mapping(it["fault"], f"{key}.fault")
            if f is not None:
                self.keys(f, f"{key}.fault", FAULT_KEYS)
                fault = {"code": "Receiver", "reason": "Внутренняя ошибка"}
                if "code" in f.items:
                    code = self.string(f.items["code"], f"{key}.fault.code")
                    if code is not None and not FAULT_CODE_RE.match(code):
                        self.err(f"{key}.fault.code", f.items["code"].line,
                                 f"expected Sender or Receiver (SOAP 1.2), Client or Server (SOAP 1.1), got {code!r}")
                    elif code is not None:
                        fault["code"] = code
                if "reason" in f.items:
                    reason = self.string(f.items["reason"], f"{key}.fault.reason")
                    if reason is not None:
                        fault["reason"] = reason
                out["fault"] = fault
        if "http_status" in it:
            v = self.integer(it["http_status"], f"{key}.http_status", low=MIN_HTTP_STATUS, high=MAX_HTTP_STATUS)
            if v is not None:
                out["http_status"] = v
        if "drop" in it:
            d = self.string(it["drop"], f"{key}.drop")
            if d is not None and d not in DROP_MODES:
                self.err(f"{key}.drop", it["drop"].line, f"unknown drop mode {d!r}; expected one of: {', '.join(DROP_MODES)}")
            elif d is not None:
                out["drop"] = d
        replacing = [k for k in ("errors", "fault", "drop") if k in it]
        if len(replacing) > 1:
            self.err(key, node.line, f"{' and '.join(replacing)} each replace the answer: give only one of them")
        if "http_status" in it and ("errors" in it or "drop" in it):
            other = "errors" if "errors" in it else "drop"
            self.err(f"{key}.http_status", it["http_status"].line,
                     f"http_status combines with fault only (a fault with that status), not with {other}")
        return out

    def outcome(self, it: dict[str, Node], key: str, out: dict[str, Any]) -> None:
        """``status`` and ``errors`` of a callback or a federal outcome."""
        if "status" in it:
            s = self.string(it["status"], f"{key}.status")
            if s is not None and s not in ("success", "error"):
                self.err(f"{key}.status", it["status"].line, f"expected success or error, got {s!r}")
            elif s is not None:
                out["status"] = s
        if "errors" in it:
            v = self.error_items(it["errors"], f"{key}.errors")
            if v is not None:
                out["errors"] = v
        if out.get("status") == "success" and "errors" in it:
            self.err(f"{key}.errors", it["errors"].line, "status: success cannot carry errors")

    def callback(self, node: Node | None, key: str) -> dict[str, Any]:
        node = self.mapping(node, key)
        if node is None:
            return {}
        self.keys(node, key, CALLBACK_KEYS)
        it, out = node.items, {}
        if "delay_ms" in it:
            v = self.integer(it["delay_ms"], f"{key}.delay_ms", low=0, high=MAX_CALLBACK_DELAY_MS)
            if v is not None:
                out["delay_ms"] = v
        self.outcome(it, key, out)
        if "repeat" in it:
            v = self.integer(it["repeat"], f"{key}.repeat", low=1, high=MAX_REPEAT)
            if v is not None:
                out["repeat"] = v
        if "repeat_interval_ms" in it:
            v = self.integer(it["repeat_interval_ms"], f"{key}.repeat_interval_ms", low=0, high=MAX_CALLBACK_DELAY_MS)
            if v is not None:
                out["repeat_interval_ms"] = v
        if "soap_version" in it:
            raw = it["soap_version"].value  # YAML reads a bare 1.2 as a number
            v = str(raw) if isinstance(raw, float) else self.string(it["soap_version"], f"{key}.soap_version")
            if v is not None and v not in ("1.1", "1.2"):
                self.err(f"{key}.soap_version", it["soap_version"].line, f"expected \"1.1\" or \"1.2\", got {v!r}")
            elif v is not None:
                out["soap_version"] = v
        for name in ("skip", "malformed", "foreign_first"):
            if name in it:
                v = self.boolean(it[name], f"{key}.{name}")
                if v is not None:
                    out[name] = v
        if "relates_to" in it:
            v = self.string(it["relates_to"], f"{key}.relates_to", allow_numbers=True)
            if v is not None:
                out["relates_to"] = v
        if "fremd" in it:
            f = self.mapping(it["fremd"], f"{key}.fremd")
            if f is not None:
                self.keys(f, f"{key}.fremd", FREMD_KEYS)
                fremd: dict[str, Any] = {}
                self.outcome(f.items, f"{key}.fremd", fremd)
                if "delay_ms" in f.items:
                    v = self.integer(f.items["delay_ms"], f"{key}.fremd.delay_ms", low=0, high=MAX_CALLBACK_DELAY_MS)
                    if v is not None:
                        fremd["delay_ms"] = v
                if "skip" in f.items:
                    v = self.boolean(f.items["skip"], f"{key}.fremd.skip")
                    if v is not None:
                        fremd["skip"] = v
                out["fremd"] = fremd
        return out

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
            self.err(key, node.line, "the rule changes nothing: give sync: or callback: (or both)")
        if match.operation and "registerDocument" not in match.operation and "callback" in it:
            self.err(f"{key}.callback", node.keys.get("callback"),
                     f"{'/'.join(match.operation)} has no result callback: callback: applies to registerDocument only")
        if match.attempt and match.operation and "registerDocument" not in match.operation:
            self.err(f"{key}.match.attempt", it["match"].keys.get("attempt"),
                     "attempt counts requests for one localUid: it applies to registerDocument only")
        name = self.string(it["name"], f"{key}.name", allow_numbers=True) if "name" in it else ""
        desc = self.string(it["description"], f"{key}.description") if "description" in it else ""
        return Rule(number=number, line=node.line, match=match, sync=sync, callback=callback,
                    name=name or "", description=desc or "")

    def scenario(self, root: Node, source: str) -> Scenario | None:
        if root.kind != "map":
            self.err("", root.line, f"expected a scenario (a mapping with name and rules), got {_type_name(root)}")
            return None
        self.keys(root, "", TOP_KEYS)
        it = root.items
        name = None
        if "name" not in it:
            self.err("name", root.line, "the scenario needs a name")
        else:
            name = self.string(it["name"], "name", allow_numbers=True)
            if name is not None and not NAME_RE.match(name):
                self.err("name", it["name"].line,
                         f"a name uses letters, digits, '.', '_' and '-' (up to 128, no spaces), got {name!r}")
                name = None
        description = self.string(it["description"], "description") if "description" in it else ""
        description_ru = self.string(it["description_ru"], "description_ru") if "description_ru" in it else ""
        seed = self.integer(it["seed"], "seed", low=0) if "seed" in it else None
        rules: list[Rule] = []
        if "rules" not in it:
            self.err("rules", root.line, "the scenario needs rules: a list of {match, sync, callback}")
        elif it["rules"].kind != "list":
            self.err("rules", it["rules"].line, f"expected a list of rules, got {_type_name(it['rules'])}")
        elif not it["rules"].elements:
            self.err("rules", it["rules"].line, "the list of rules is empty")
        else:
            for i, r in enumerate(it["rules"].elements):
                rule = self.rule(r, i + 1)
                if rule is not None:
                    rules.append(rule)
        if self.issues or name is None:
            return None
        return Scenario(name=name, rules=rules, description=description or "",
                        description_ru=description_ru or "", seed=seed, source=source,
                        file=self.file)


def compile_text(text: str, *, filename: str = "", content_type: str = "") -> tuple[Scenario | None, list[Issue]]:
    """Check and compile one scenario document; the scenario is None whenever there is an issue."""
    try:
        root = parse_text(text, filename=filename, content_type=content_type)
    except ScenarioSyntaxError as exc:
        return None, [exc.issue]
    checker = _Checker(filename)
    scenario = checker.scenario(root, text)
    issues = sorted(checker.issues, key=lambda i: (i.line or 0, i.key))
    return (scenario if not issues else None), issues


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
            issues.append(Issue("no such file or directory", file=str(p)))
    return files, issues


def read_scenario_file(path: Path) -> str:
    """The text of a scenario file; a file over the YAML size limit is refused before it is read.

    Raises :class:`OSError`, :class:`UnicodeDecodeError` or :class:`~mock_remd.yamlsafe.YamlLimitError`.
    """
    size = path.stat().st_size
    if size > DEFAULT_LIMITS.max_bytes:
        raise too_large(size)
    return path.read_text(encoding="utf-8")


def lint_paths(paths: Iterable[str | Path]) -> tuple[list[Scenario], list[Issue]]:
    """Lint every scenario file under ``paths``; also reports one name used by two files."""
    files, issues = scenario_files(paths)
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for f in files:
        try:
            text = read_scenario_file(f)
        except YamlLimitError as exc:
            issues.append(Issue(yaml_text("en", exc, position=False), file=str(f)))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(Issue(f"cannot read the file: {safe_text(exc, 'not readable')}", file=str(f)))
            continue
        ctype = "application/json" if f.suffix.lower() == ".json" else ""
        scenario, found = compile_text(text, filename=str(f), content_type=ctype)
        issues.extend(found)
        if scenario is None:
            continue
        if scenario.name in seen:
            issues.append(Issue(f"the name {scenario.name!r} is already used by {seen[scenario.name]}", key="name",
                                file=str(f)))
            continue
        seen[scenario.name] = f
        scenarios.append(scenario)
    return scenarios, issues
