"""Conformance plans: YAML files of steps, each an answer the mock gives and checks of what the MIS does.

A plan file (``docs/conformance.md``)::

    name: mis-basic
    description: ...
    steps:
      - id: rate-limit-retry
        title: Retries after RATE_LIMIT
        answer:                       # the first request of the step (scenario ``sync``/``callback`` keys)
          sync: {errors: [{code: RATE_LIMIT}]}
        resend:                       # later requests of the step (default: the normal answer)
          callback: {}
        expect:                       # all must hold for the step to pass
          - resend: {not_before_s: retry_after_s}

Checks are ``ack``, ``foreign_ack``, ``resend``, ``no_resend`` and ``poll`` (:data:`CHECKS`). The
``answer``/``resend`` blocks are checked by the scenario linter, so they speak exactly the scenario
vocabulary. The built-in plans ship in ``mock_remd/conformance/plans``; user plans live in the
``conformance/`` folder of the scenarios directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mock_remd.catalog import user_messages as um
from mock_remd.scenarios.lint import _Checker as ScenarioChecker
from mock_remd.scenarios.lint import (
    _type_name,
    compile_document,
    compile_files,
    read_documents,
    read_scenario_file,
)
from mock_remd.scenarios.loader import Issue, Node, ScenarioSyntaxError, parse_text
from mock_remd.yamlsafe import YamlLimitError

BUILTIN_DIR = Path(__file__).resolve().parent / "plans"
#: the user's plans: this folder of the scenarios directory
USER_SUBDIR = "conformance"

TOP_KEYS = ("name", "description", "description_ru", "steps")
STEP_KEYS = ("id", "title", "title_ru", "description", "answer", "resend", "expect")
ANSWER_KEYS = ("sync", "callback")
#: check kind -> its keys
CHECKS: dict[str, tuple[str, ...]] = {
    "ack": ("within_s", "status"),
    "foreign_ack": ("within_s", "status"),
    "resend": ("not_before_s",),
    "no_resend": ("quiet_s",),
    "poll": (),
}
#: run parameters a duration may name instead of a number
PARAMS = ("step_timeout_s", "retry_after_s")
STEP_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_SECONDS = 24 * 3600


@dataclass
class Check:
    """One expectation of a step. Durations are seconds or the name of a run parameter."""

    kind: str
    within_s: float | str = 5
    status: str = "2xx"  # 2xx | any
    not_before_s: float | str = 0
    quiet_s: float | str = 2

    def seconds(self, name: str, params: dict[str, float]) -> float:
        value = getattr(self, name)
        return float(params[value]) if isinstance(value, str) else float(value)


@dataclass
class PlanStep:
    id: str
    title: str
    description: str = ""
    answer: dict[str, Any] = field(default_factory=dict)
    resend: dict[str, Any] = field(default_factory=dict)
    expect: list[Check] = field(default_factory=list)
    #: the title in Russian (optional; the English one shows where it is missing)
    title_ru: str = ""

    @property
    def callbacks_expected(self) -> int:
        """How many callbacks of the document the answer sends (0 with ``skip``)."""
        cb = self.answer.get("callback") or {}
        return 0 if cb.get("skip") else int(cb.get("repeat") or 1)


@dataclass
class Plan:
    name: str
    steps: list[PlanStep]
    description: str = ""
    file: str = ""
    description_ru: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        steps = [PlanStep(**{**s, "expect": [Check(**c) for c in s.get("expect", [])]}) for s in d["steps"]]
        return cls(name=d["name"], steps=steps, description=d.get("description", ""), file=d.get("file", ""),
                   description_ru=d.get("description_ru", ""))

    def summary(self, lang: str = um.DEFAULT_LANG) -> dict[str, Any]:
        """Name, description and step titles (in Russian where the plan gives them and ``lang`` is ru)."""
        ru = lang == "ru"
        return {"name": self.name, "description": (ru and self.description_ru) or self.description, "file": self.file,
                "steps": [{"id": s.id, "title": (ru and s.title_ru) or s.title} for s in self.steps]}


class _PlanChecker(ScenarioChecker):
    """The scenario checker plus the plan's own keys."""

    def seconds(self, node: Node, key: str) -> float | str | None:
        v = node.value
        if node.kind == "scalar" and isinstance(v, str) and v in PARAMS:
            return v
        if node.kind != "scalar" or isinstance(v, bool) or not isinstance(v, (int, float)):
            self.err(key, node.line, um.text("lint.want_seconds", params=", ".join(PARAMS),
                                                got=_type_name(node)))
            return None
        if not 0 <= v <= MAX_SECONDS:
            self.err(key, node.line, um.text("lint.seconds_range", high=MAX_SECONDS, value=v))
            return None
        return v

    def answer(self, node: Node | None, key: str) -> dict[str, Any]:
        node = self.mapping(node, key)
        if node is None:
            return {}
        self.keys(node, key, ANSWER_KEYS)
        out: dict[str, Any] = {}
        if "sync" in node.items:
            out["sync"] = self.sync(node.items["sync"], f"{key}.sync")
        if "callback" in node.items:
            out["callback"] = self.callback(node.items["callback"], f"{key}.callback")
        return out

    def check(self, node: Node, key: str) -> Check | None:
        if node.kind == "scalar" and isinstance(node.value, str):  # "- poll" for a check without keys
            node = Node("map", node.line, items={node.value: Node("map", node.line)}, keys={node.value: node.line})
        if self.mapping(node, key) is None:
            return None
        if len(node.items) != 1:
            self.err(key, node.line, um.text("lint.one_check", checks=", ".join(CHECKS)))
            return None
        kind, body = next(iter(node.items.items()))
        if kind not in CHECKS:
            self.err(f"{key}.{kind}", node.keys.get(kind), um.text("lint.unknown_check", value=repr(kind),
                                                                 checks=", ".join(CHECKS)))
            return None
        check = Check(kind=kind)
        if body.kind == "scalar" and body.value is None:
            return check
        if self.mapping(body, f"{key}.{kind}") is None:
            return None
        self.keys(body, f"{key}.{kind}", CHECKS[kind])
        for name, value in body.items.items():
            if name == "status":
                s = self.string(value, f"{key}.{kind}.status")
                if s is not None and s not in ("2xx", "any"):
                    self.err(f"{key}.{kind}.status", value.line, um.text("lint.want_status", value=repr(s)))
                elif s is not None:
                    check.status = s
            elif name in CHECKS[kind]:
                sec = self.seconds(value, f"{key}.{kind}.{name}")
                if sec is not None:
                    setattr(check, name, sec)
        return check

    def step(self, node: Node, number: int, seen: dict[str, int]) -> PlanStep | None:
        key = f"steps[{number}]"
        if self.mapping(node, key) is None:
            return None
        self.keys(node, key, STEP_KEYS)
        it = node.items
        sid = self.string(it["id"], f"{key}.id") if "id" in it else None
        if "id" not in it:
            self.err(key, node.line, um.text("lint.step_no_id"))
        elif sid is not None and not STEP_ID_RE.match(sid):
            self.err(f"{key}.id", it["id"].line, um.text("lint.bad_step_id", value=repr(sid)))
            sid = None
        elif sid is not None and sid in seen:
            self.err(f"{key}.id", it["id"].line, um.text("lint.step_id_used", value=repr(sid), step=seen[sid]))
        if sid:
            seen.setdefault(sid, number)
        title = self.string(it["title"], f"{key}.title") if "title" in it else None
        title_ru = self.string(it["title_ru"], f"{key}.title_ru") if "title_ru" in it else ""
        desc = self.string(it["description"], f"{key}.description") if "description" in it else ""
        answer = self.answer(it.get("answer"), f"{key}.answer")
        resend = self.answer(it.get("resend"), f"{key}.resend")
        checks: list[Check] = []
        if "expect" not in it:
            self.err(key, node.line, um.text("lint.step_no_expect"))
        elif it["expect"].kind != "list" or not it["expect"].elements:
            self.err(f"{key}.expect", it["expect"].line, um.text("lint.want_checks"))
        else:
            for i, c in enumerate(it["expect"].elements):
                check = self.check(c, f"{key}.expect[{i + 1}]")
                if check is not None:
                    checks.append(check)
        callback = answer.get("callback") or {}
        kinds = {c.kind for c in checks}
        if callback.get("skip") and kinds & {"ack", "foreign_ack"}:
            self.err(f"{key}.expect", it["expect"].line, um.text("lint.skip_ack"))
        if "foreign_ack" in kinds and not callback.get("foreign_first"):
            self.err(f"{key}.expect", it["expect"].line, um.text("lint.foreign_ack"))
        if sid is None:
            return None
        return PlanStep(id=sid, title=title or sid, description=desc or "", answer=answer, resend=resend, expect=checks,
                        title_ru=title_ru or "")

    def plan(self, root: Node) -> Plan | None:
        name = self.head(root, um.text("lint.what.plan"), um.text("lint.shape.plan"), TOP_KEYS)
        if root.kind != "map":
            return None
        seen: dict[str, int] = {}
        steps = self.elements(root, "steps", um.text("lint.needs_steps"), um.text("lint.what.steps"),
                              lambda node, number: self.step(node, number, seen))
        if self.issues or name is None:
            return None
        return Plan(name=name, steps=steps, description=self.text(root.items, "description"), file=self.file,
                    description_ru=self.text(root.items, "description_ru"))


def is_plan_text(text: str, content_type: str = "") -> bool:
    """True when the document looks like a plan (a mapping with ``steps`` and no ``rules``)."""
    try:
        root = parse_text(text, content_type=content_type)
    except ScenarioSyntaxError:
        return False
    return root.kind == "map" and "steps" in root.items and "rules" not in root.items


def compile_plan(text: str, *, filename: str = "", content_type: str = "") -> tuple[Plan | None, list[Issue]]:
    """Check and compile one plan document; the plan is None whenever there is an issue."""
    checker = _PlanChecker(filename)
    return compile_document(text, checker, checker.plan, content_type=content_type)


def plan_files(folders: Iterable[Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of the folders that exist, sorted per folder."""
    out: list[Path] = []
    for d in folders:
        if d.is_dir():
            out.extend(sorted(f for f in d.iterdir() if f.is_file() and f.suffix.lower() in (".yaml", ".yml")))
    return out


class PlanLibrary:
    """The built-in plans and the user's (``<scenarios_dir>/conformance``); a user plan may replace a built-in one."""

    def __init__(self, scenarios_dir: str = "") -> None:
        self.folders = [BUILTIN_DIR] + ([Path(scenarios_dir) / USER_SUBDIR] if scenarios_dir else [])

    def load(self) -> tuple[dict[str, Plan], list[Issue]]:
        """Read every plan file now (they are few and small); invalid files come back as issues."""
        plans: dict[str, Plan] = {}
        issues: list[Issue] = []
        for f, text, _ in read_documents(plan_files(self.folders), issues):
            plan, found = compile_plan(text, filename=str(f))
            issues.extend(found)
            if plan is not None:
                plans[plan.name] = plan
        return plans, issues

    def get(self, name: str) -> Plan | None:
        return self.load()[0].get(name)


def split_plan_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Files named by ``paths`` (folders listed, with their ``conformance/`` subfolder) split into
    (plan files, everything else); the rest goes to the scenario linter, which reports what it cannot read."""
    plans: list[Path] = []
    others: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = [f for d in (p, p / USER_SUBDIR) if d.is_dir()
                     for f in sorted(d.iterdir()) if f.is_file() and f.suffix.lower() in (".yaml", ".yml", ".json")]
        else:
            files = [p]
        for f in files:
            try:
                text = read_scenario_file(f) if f.is_file() else ""
            except (OSError, UnicodeDecodeError, YamlLimitError):  # the scenario linter says why
                text = ""
            ctype = "application/json" if f.suffix.lower() == ".json" else ""
            (plans if text and is_plan_text(text, ctype) else others).append(f)
    return plans, others


def lint_plan_files(files: Iterable[Path]) -> tuple[list[Plan], list[Issue]]:
    """Lint plan files; also reports one plan name used by two files."""
    issues: list[Issue] = []
    return compile_files(files, issues, compile_plan, "plan"), issues
