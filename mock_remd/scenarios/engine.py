"""The scenario engine (CONTRACT §7): library, active sets, and the rule that decides a request.

Everything lives in the store, so several server processes share one library, one set of active
scenarios and the same counters:

* ``scenarios`` — the library: files of ``MOCK_REMD_SCENARIOS_DIR`` (origin ``dir``, loaded at start)
  and uploads (origin ``upload``; an upload is never overwritten by a file of the same name);
* ``active_scenarios`` — scope ``""`` is the global set; a scope named after a system mnemonic is
  that system's own set, used *instead of* the global one for its requests;
* ``scenario_state`` — counters: ``nth|<scope>|<scenario>|<rule>`` (requests that matched the rest
  of a rule), ``…|<rule>|roll`` (seeded probability rolls) and ``…|attempt|<localUid>`` (the
  per-document story). Activating a set or resetting the mock starts them again.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
from pathlib import Path
from typing import Any

from mock_remd.catalog import user_messages as um
from mock_remd.catalog.incidents import safe_text
from mock_remd.catalog.user_messages import Text
from mock_remd.domain.behaviour import Behaviour, RequestFacts
from mock_remd.scenarios.lint import compile_text, read_scenario_file, scenario_files
from mock_remd.scenarios.loader import Issue
from mock_remd.scenarios.matcher import mismatches, seeded_roll
from mock_remd.scenarios.model import Rule, Scenario
from mock_remd.store.faults import is_conflict
from mock_remd.store.repository import Store
from mock_remd.store.scenarios import ScenarioSource
from mock_remd.yamlsafe import YamlLimitError

log = logging.getLogger(__name__)


class ScenarioError(Exception):
    """A request of the admin API the engine refuses (``status`` 4xx, ``error`` a catalogue :class:`Text`
    rendered in the client's language, ``detail`` for the client)."""

    def __init__(self, status: int, error: Text, detail: Any = None) -> None:
        super().__init__(error.render(um.DEFAULT_LANG))  # the log's text; answers render ``error`` themselves
        self.status = status
        self.error = error
        self.detail = detail


def _counter_prefix(scope: str, scenario: str) -> str:
    return f"nth|{scope}|{scenario}|"


@functools.lru_cache(maxsize=256)
def _library_verdict(text: str, filename: str, content_type: str) -> tuple[str | None, tuple[Issue, ...]]:
    """The name of the scenario one library file holds, or its issues (:func:`compile_text`).

    Remembered by content: every server a process starts (test runs, the pytest plugin) loads the
    same library, and compiling its files was most of a server's start-up.
    """
    scenario, issues = compile_text(text, filename=filename, content_type=content_type)
    return (None if scenario is None else scenario.name), tuple(issues)


class ScenarioEngine:
    """Implements :class:`~mock_remd.domain.behaviour.BehaviourSource` and the admin operations."""

    def __init__(self, store: Store, *, scenarios_dir: str | Path | None = None) -> None:
        self.store = store
        self.scenarios_dir = Path(scenarios_dir) if scenarios_dir else None
        self._cache: dict[str, tuple[str, Scenario]] = {}
        self._lock = threading.Lock()
        #: files of the scenarios directory that were not loaded (rendered in the reader's language)
        self.load_errors: list[Issue] = []
        self.load_library()

    # ---- library -------------------------------------------------------------------------------
    def load_library(self) -> int:
        """Load the scenario files of ``scenarios_dir`` into the store; returns how many loaded.

        Invalid files are skipped with a warning (``mock-remd scenarios lint`` shows why); files
        removed from the directory leave the library.
        """
        self.load_errors = []
        if self.scenarios_dir is None or not self.scenarios_dir.is_dir():
            return 0
        files, _ = scenario_files([self.scenarios_dir])
        existing = {r.name: r for r in self.store.scenarios.list()}
        loaded: set[str] = set()
        for f in files:
            try:
                text = read_scenario_file(f)
            except YamlLimitError as exc:
                self.load_errors.append(Issue(um.yaml_what(exc), file=str(f)))
                continue
            except (OSError, UnicodeDecodeError) as exc:
                reason = safe_text(exc, um.text("lint.not_readable"))  # type: ignore[arg-type]
                self.load_errors.append(Issue(um.text("lint.unreadable", reason=reason), file=str(f)))
                continue
            name, issues = _library_verdict(text, str(f), "application/json" if f.suffix == ".json" else "")
            if name is None:
                self.load_errors.extend(issues)
                continue
            loaded.add(name)
            old = existing.get(name)
            if old is not None and (old.origin != "dir" or old.source == text):
                continue
            try:
                self.store.scenarios.put(name, text, origin="dir")
            except Exception as exc:
                if not is_conflict(exc):
                    raise
                # another worker loaded it at the same moment
        for name, row in existing.items():
            if row.origin == "dir" and name not in loaded:
                self.store.scenarios.delete(name)
        for issue in self.load_errors:
            log.warning("scenario file skipped: %s", issue.render("en"))
        return len(loaded)

    def _compiled(self) -> dict[str, tuple[Scenario, ScenarioSource]]:
        """Every scenario of the library, compiled (cached by source text)."""
        out: dict[str, tuple[Scenario, ScenarioSource]] = {}
        rows = self.store.scenarios.list()
        with self._lock:
            for row in rows:
                cached = self._cache.get(row.name)
                if cached is not None and cached[0] == row.source:
                    out[row.name] = (cached[1], row)
                    continue
                scenario, _issues = compile_text(row.source, filename=row.name)
                if scenario is None:  # stored before a stricter check: treat as absent
                    continue
                self._cache[row.name] = (row.source, scenario)
                out[row.name] = (scenario, row)
        return out

    # ---- deciding ------------------------------------------------------------------------------
    @staticmethod
    def _scope(active: dict[str, list[str]], system: str) -> str | None:
        if system and system in active:
            return system
        if "" in active:
            return ""
        return None

    def decides_nothing(self, facts: RequestFacts) -> bool:
        """True when no scenario is active for the request's system (:meth:`decide` would count nothing)."""
        return self._scope(self.store.scenarios.active(), facts.system) is None

    def decide(self, facts: RequestFacts) -> Behaviour | None:
        """The behaviour of the first active rule matching ``facts`` (None = answer normally).

        Every rule whose other conditions fit counts the request for its ``nth``, even when an
        earlier rule already won, so ``nth: 2`` always means "the 2nd such request".
        """
        active = self.store.scenarios.active()
        scope = self._scope(active, facts.system)
        if scope is None:
            return None
        library = self._compiled()
        winner: tuple[Scenario, Rule, dict[str, Any]] | None = None
        for name in active[scope]:
            entry = library.get(name)
            if entry is None:
                continue
            scenario = entry[0]
            attempt = self._attempt(scope, scenario, facts)
            for rule in scenario.rules:
                if mismatches(rule.match, facts, attempt=attempt):
                    continue
                extra: dict[str, Any] = {}
                if attempt is not None and rule.match.attempt:
                    extra["attempt"] = attempt
                if rule.match.nth is not None:
                    count = self.store.scenarios.bump(f"{_counter_prefix(scope, scenario.name)}{rule.number}")
                    if count != rule.match.nth:
                        continue
                    extra["nth"] = count
                if winner is not None:
                    continue
                if rule.match.probability is not None:
                    roll = self._roll(scope, scenario, rule)
                    if roll >= rule.match.probability:
                        continue
                    extra["roll"] = round(roll, 6)
                winner = (scenario, rule, extra)
        if winner is None:
            return None
        scenario, rule, extra = winner
        source: dict[str, Any] = {"scenario": scenario.name, "rule": rule.number, "line": rule.line,
                                  "scope": scope or "*"}
        if rule.name:
            source["rule_name"] = rule.name
        source.update(extra)
        return rule.behaviour(source)

    def _attempt(self, scope: str, scenario: Scenario, facts: RequestFacts) -> int | None:
        """The number of this request among those for its localUid while the scenario is active."""
        if not scenario.uses_attempts or not facts.local_uid or facts.operation != "registerDocument":
            return None
        key = f"{_counter_prefix(scope, scenario.name)}attempt|{facts.local_uid.strip().lower()}"
        return self.store.scenarios.bump(key)

    def _roll(self, scope: str, scenario: Scenario, rule: Rule) -> float:
        if scenario.seed is None:
            return random.random()
        n = self.store.scenarios.bump(f"{_counter_prefix(scope, scenario.name)}{rule.number}|roll")
        return seeded_roll(scenario.seed, scenario.name, rule.number, n)

    # ---- admin ---------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The library (``items``, ``total``) and the active sets (``active``: scope → names)."""
        active = self.store.scenarios.active()
        items = []
        for name, (scenario, row) in sorted(self._compiled().items()):
            summary = scenario.summary()
            summary["origin"] = row.origin
            summary["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
            summary["active_for"] = sorted(scope or "*" for scope, names in active.items() if name in names)
            items.append(summary)
        return {"items": items, "total": len(items), "active": {scope or "*": names for scope, names in active.items()},
                "load_errors": self.load_errors}

    def get(self, name: str) -> dict[str, Any]:
        """One scenario with its source text."""
        entry = self._compiled().get(name)
        if entry is None:
            raise ScenarioError(404, um.text("scenario.missing", name=name))
        summary = entry[0].summary()
        summary["origin"] = entry[1].origin
        summary["source"] = entry[1].source
        return summary

    def upload(self, text: str, content_type: str = "") -> dict[str, Any]:
        """Add or replace a scenario; an invalid one is refused with every lint issue."""
        if not (text or "").strip():
            raise ScenarioError(400, um.text("scenario.empty"))
        scenario, issues = compile_text(text, filename="upload", content_type=content_type)
        if scenario is None:
            raise ScenarioError(400, um.text("scenario.invalid"),
                                [{**i.as_dict(), "text": i} for i in issues])
        self.store.scenarios.put(scenario.name, text, origin="upload")
        out = scenario.summary()
        out["origin"] = "upload"
        return out

    def remove(self, name: str) -> dict[str, Any]:
        """Delete a scenario from the library and from every active set."""
        if not self.store.scenarios.delete(name):
            raise ScenarioError(404, um.text("scenario.missing", name=name))
        for scope, names in self.store.scenarios.active().items():
            if name in names:
                self.store.scenarios.set_active(scope, [n for n in names if n != name])
        return {"status": "deleted", "name": name}

    def activate(self, names: list[str], system: str = "") -> dict[str, Any]:
        """Make ``names`` the active set (globally, or for one system); their counters restart."""
        if not all(isinstance(n, str) for n in names):
            raise ScenarioError(400, um.text("scenario.names"))
        library = self._compiled()
        unknown = [n for n in names if n not in library]
        if unknown:
            raise ScenarioError(404, um.text("scenario.unknown"), {"unknown": unknown, "known": sorted(library)})
        if len(set(names)) != len(names):
            raise ScenarioError(400, um.text("scenario.twice"), names)
        scope = (system or "").strip()
        if scope == "*":
            scope = ""
        if scope and self.store.systems.get(scope) is None:
            raise ScenarioError(404, um.text("admin.system_missing", mnemonic=scope))
        self.store.scenarios.set_active(scope, list(names))
        return {"scope": scope or "*", "system": scope, "names": list(names)}

    def deactivate(self, system: str = "") -> dict[str, Any]:
        """Empty the active set (global, or of one system)."""
        scope = "" if system in ("", "*") else system.strip()
        self.store.scenarios.set_active(scope, [])
        return {"scope": scope or "*", "system": scope, "names": []}

    def reset(self, everything: bool = False) -> None:
        """After the store's reset (counters gone): with ``everything`` the library is reloaded."""
        with self._lock:
            self._cache.clear()
        if everything:
            self.load_library()

    # ---- diagnostics ---------------------------------------------------------------------------
    def explain(self, journal_item: dict[str, Any]) -> dict[str, Any]:
        """For a journal entry: the rule that matched, or why each active rule did not.

        The request is compared with the rules active *now*; ``nth`` and ``probability`` are
        reported, not replayed (they depend on counters and rolls at the time).
        """
        source = journal_item.get("scenario") or {}
        detail = journal_item.get("detail") or {}
        facts_extra = detail.get("facts") or {}
        criteria = detail.get("criteria") or {}
        facts = RequestFacts(
            operation=journal_item.get("operation") or "",
            system=journal_item.get("system") or "",
            kind=journal_item.get("kind") or facts_extra.get("kind") or criteria.get("kind") or "",
            organization=facts_extra.get("organization") or criteria.get("organization") or "",
            patient_snils=facts_extra.get("patient_snils") or criteria.get("patient_snils") or "",
            local_uid=journal_item.get("local_uid") or "",
            document_number=facts_extra.get("document_number") or "",
        )
        out: dict[str, Any] = {"matched": None, "magic": source.get("magic"), "scope": None, "rules": []}
        if source.get("scenario"):
            out["matched"] = {k: source[k] for k in ("scenario", "rule", "rule_name", "line", "scope") if k in source}
        active = self.store.scenarios.active()
        scope = self._scope(active, facts.system)
        if scope is None:
            out["note"] = "no scenario is active for this system"
            return out
        out["scope"] = scope or "*"
        library = self._compiled()
        for name in active[scope]:
            entry = library.get(name)
            if entry is None:
                out["rules"].append({"scenario": name, "rule": None, "matched": False,
                                     "reasons": ["the scenario is no longer in the library"]})
                continue
            scenario = entry[0]
            for rule in scenario.rules:
                attempt = None if not rule.match.attempt else source.get("attempt")
                reasons = mismatches(rule.match, facts, attempt=attempt)
                if rule.match.attempt and attempt is None:
                    reasons = [r for r in reasons if not r.startswith("attempt:")]
                    reasons.append(f"attempt {', '.join(map(str, rule.match.attempt))}: counted per localUid at the "
                                   "time of the request, not replayed")
                won = source.get("scenario") == scenario.name and source.get("rule") == rule.number
                if not reasons and not won:
                    if rule.match.nth is not None:
                        reasons.append(f"nth {rule.match.nth}: every other condition fits; the request was not the "
                                       f"{rule.match.nth}. one to do so (or an earlier rule won)")
                    if rule.match.probability is not None:
                        reasons.append(f"probability {rule.match.probability}: every other condition fits; the roll "
                                       "missed (or an earlier rule won)")
                    if not reasons:
                        reasons.append("every condition fits: an earlier rule won" if out["matched"]
                                       else "every condition fits now (the active set or library changed since)")
                item: dict[str, Any] = {"scenario": scenario.name, "rule": rule.number, "line": rule.line,
                                        "matched": won, "reasons": [] if won else reasons}
                if rule.name:
                    item["rule_name"] = rule.name
                out["rules"].append(item)
        return out
