"""Conformance runs (CONTRACT §10): the mock tests the MIS.

:class:`ConformanceEngine` is three things:

* a :class:`~mock_remd.domain.behaviour.BehaviourSource` asked before the scenarios: while a system has
  an active run, each new localUid it registers starts the plan's next step (a re-send of the same
  localUid, or of the same document under a new localUid, belongs to the step it started), and the
  step decides the answer and the callbacks;
* the judge (:meth:`judge_active`, a background loop beside the processor): it reads what the MIS did
  (the journal, the attempts of our callbacks) and decides each step;
* the run registry behind the admin API: start, list, read, cancel.

Runs live in the store, so they survive a restart and every process sees the same ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_remd.catalog import user_messages as um
from mock_remd.catalog.user_messages import DEFAULT_LANG, Text, text
from mock_remd.conformance.judge import (
    Evidence,
    document_sentence,
    expected_sentence,
    expected_text,
    judge_step,
    observed_record,
    observed_text,
    parse_time,
    secs,
    validation_findings,
)
from mock_remd.conformance.plan import Plan, PlanLibrary, compile_plan
from mock_remd.domain.behaviour import Behaviour, CallbackBehaviour, RequestFacts, SyncBehaviour
from mock_remd.domain.model import normalize_message_id
from mock_remd.store.clock import iso, utcnow
from mock_remd.store.outbox import Delivery
from mock_remd.store.repository import Store
from mock_remd.store.runs import Run, RunConflict

log = logging.getLogger(__name__)

DEFAULT_PARAMS = {"step_timeout_s": 120.0, "retry_after_s": 60.0}
MAX_SECONDS = 24 * 3600


class ConformanceError(Exception):
    """A refused admin call: ``status``, ``error`` (one sentence) and ``detail``."""

    def __init__(self, status: int, error: Text, detail: Any = None) -> None:
        super().__init__(error.render(DEFAULT_LANG))  # the log's text; answers render ``error`` themselves
        self.status, self.error, self.detail = status, error, detail


@dataclass
class _Assignment:
    index: int
    kind: str  # first | resend


def fingerprint(facts: RequestFacts) -> str:
    """The same document under another localUid: kind, organisation, patient and creation time agree."""
    req = facts.request
    created = req.creation_date_time if req is not None else ""
    if not (facts.patient_snils or created):
        return ""
    return "|".join((facts.kind, facts.organization, facts.patient_snils, created))


class ConformanceEngine:
    """Conformance runs of one mock-remd instance (see the module docstring)."""

    def __init__(self, store: Store, *, scenarios_dir: str = "") -> None:
        self.store = store
        self.runs = store.runs
        self.plans = PlanLibrary(scenarios_dir)

    # ---- runs ----------------------------------------------------------------------------------
    def start(self, body: dict[str, Any]) -> Run:
        """Start a run from the admin body ``{system, plan | plan_yaml, step_timeout_s, retry_after_s}``."""
        if not isinstance(body, dict):
            raise ConformanceError(400, um.text("admin.conformance_body"))
        system = body.get("system")
        if not isinstance(system, str) or not system:
            raise ConformanceError(400, um.text("conformance.system"))
        if self.store.systems.get(system) is None:
            raise ConformanceError(404, um.text("admin.system_missing", mnemonic=system), um.text("conformance.register_system"))
        plan = self._plan(body)
        params = dict(DEFAULT_PARAMS)
        for name in DEFAULT_PARAMS:
            if body.get(name) is None:
                continue
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
                raise ConformanceError(400, um.text("conformance.seconds", name=name, high=MAX_SECONDS, value=repr(value)))
            params[name] = float(value)
        if params["step_timeout_s"] <= 0:
            raise ConformanceError(400, um.text("conformance.timeout_positive"))
        now = utcnow()
        steps = [{"id": s.id, "title": s.title, "title_ru": s.title_ru, "state": "pending",
                  "expected_record": expected_sentence(s, params).as_dict(), "observed_record": None,
                  "local_uid": None, "started_at": None, "finished_at": None, "sends": []}
                 for s in plan.steps]
        run = Run(id=uuid.uuid4().hex[:12], system=system, plan=plan.name, plan_def=plan.as_dict(), params=params,
                  state="running", passed=None, steps=steps, created_at=now)
        try:
            return self.runs.create(run)
        except RunConflict as exc:
            raise ConformanceError(409, um.text("conformance.busy", system=system, run=exc.args[0]),
                                   {"active_run": exc.args[0]}) from exc

    def _plan(self, body: dict[str, Any]) -> Plan:
        text = body.get("plan_yaml")
        if text is not None:
            if not isinstance(text, str):
                raise ConformanceError(400, um.text("conformance.plan_yaml"))
            plan, issues = compile_plan(text, filename="plan_yaml")
            if plan is None:
                raise ConformanceError(400, um.text("conformance.plan_invalid"), [i.as_dict() for i in issues])
            return plan
        name = body.get("plan") or "mis-basic"
        plan = self.plans.get(name) if isinstance(name, str) else None
        if plan is None:
            known = sorted(self.plans.load()[0])
            raise ConformanceError(404, um.text("conformance.plan_missing", name=name), {"plans": known})
        return plan

    def get(self, run_id: str) -> Run:
        row = self.runs.get(run_id)
        if row is None:
            raise ConformanceError(404, um.text("conformance.run_missing", run=run_id))
        return row

    def cancel(self, run_id: str) -> Run:
        """Stop an active run: running and pending steps stay as they are, the run is ``cancelled``."""
        self.get(run_id)
        done: list[bool] = []

        def change(run: Run) -> Run | None:
            if run.state != "running":
                return None
            done.append(True)
            return run.changed(state="cancelled", passed=None, active_system=None, finished_at=utcnow())

        run = self._change(run_id, change)
        if run is None or not done:
            raise ConformanceError(409, um.text("conformance.run_over", run=run_id), {"state": run.state if run else None})
        return run

    def _change(self, run_id: str, change: Callable[[Run], Run | None]) -> Run | None:
        """Apply ``change`` to the run in one unit of work, its row held; ``change`` returns the new run
        (None: keep it). Returns the run as stored afterwards (None when there is no such run)."""
        with self.store.transaction() as tx:
            run = tx.runs.lock(run_id)
            if run is None:
                return None
            new = change(run)
            if new is None:
                return run
            tx.runs.save(new)
            return new

    # ---- the behaviour source ------------------------------------------------------------------
    def decides_nothing(self, facts: RequestFacts) -> bool:
        """True when the request's system has no active run (:meth:`decide` would note nothing)."""
        return (facts.operation != "registerDocument" or not facts.system or not facts.local_uid
                or self.runs.active_id(facts.system) is None)

    def decide(self, facts: RequestFacts) -> Behaviour | None:
        """The step's answer for a registerDocument of a system under test; None otherwise."""
        if facts.operation != "registerDocument" or not facts.system or not facts.local_uid:
            return None
        run_id = self.runs.active_id(facts.system)
        if run_id is None:
            return None
        now = utcnow()
        uid = facts.local_uid.lower()
        mark = fingerprint(facts)
        send = {"at": iso(now), "local_uid": facts.local_uid,
                "message_id": normalize_message_id(facts.request.message_id if facts.request else "")}
        got: list[_Assignment] = []
        plan_def: list[dict[str, Any]] = []

        def change(run: Run) -> Run | None:
            if run.state != "running":
                return None
            steps = run.steps
            index = next((i for i, s in enumerate(steps) if (s.get("local_uid") or "").lower() == uid), None)
            same = index is not None
            if index is None and mark:
                index = next((i for i, s in enumerate(steps) if s["state"] == "running" and s.get("fingerprint") == mark),
                             None)
            kind = "resend"
            if index is None:
                index = next((i for i, s in enumerate(steps) if s["state"] == "pending"), None)
                if index is None:
                    return None  # every step has its document: the MIS's other traffic is answered normally
                kind, same = "first", True
                steps[index].update(state="running", local_uid=facts.local_uid, started_at=iso(now), fingerprint=mark)
            steps[index].setdefault("sends", []).append({**send, "same_uid": same})
            got.append(_Assignment(index, kind))
            plan_def.append(run.plan_def)
            return run

        self._change(run_id, change)
        if not got:
            return None
        step = Plan.from_dict(plan_def[0]).steps[got[0].index]
        spec = step.answer if got[0].kind == "first" else step.resend
        return Behaviour(sync=SyncBehaviour(**_copy(spec.get("sync"))),
                         callback=CallbackBehaviour(**_copy(spec.get("callback"))),
                         source={"conformance": run_id, "step": step.id, "request": got[0].kind})

    # ---- the judge -----------------------------------------------------------------------------
    def judge_active(self) -> int:
        """Judge every active run once; returns how many steps changed (the background loop's step)."""
        changed = 0
        for run in self.runs.active():
            try:
                changed += self.judge(run)
            except Exception:  # one broken run must not stop the others
                log.exception("judging conformance run %s failed", run.id)
        return changed

    def judge(self, row: Run) -> int:
        """Decide the steps of one run that can be decided now and store the result."""
        now = utcnow()
        plan = Plan.from_dict(row.plan_def)
        params = row.params
        updates: dict[int, dict[str, Any]] = {}
        steps = row.steps
        for i, s in enumerate(steps):
            if s["state"] == "running":
                updates[i] = self._judge_running(row, plan, i, now)
        updates.update(self._judge_waiting(steps, row, params, now))
        if not updates:
            return 0
        seen = {i: (steps[i]["state"], len(steps[i].get("sends") or [])) for i in updates}
        applied = 0

        def change(current: Run) -> Run | None:
            if current.state != "running":
                return None
            nonlocal applied
            cur = current.steps
            for i, values in updates.items():
                if (cur[i]["state"], len(cur[i].get("sends") or [])) != seen[i]:
                    continue  # changed meanwhile (a new request): judged again on the next round
                if all(cur[i].get(k) == v for k, v in values.items()):
                    continue
                cur[i].update(values)
                applied += 1
            if not applied:
                return None
            if all(s["state"] in ("passed", "failed") for s in cur):
                current = current.changed(state="finished", passed=all(s["state"] == "passed" for s in cur),
                                          active_system=None, finished_at=utcnow())
            return current

        self._change(row.id, change)
        return applied

    def _judge_running(self, row: Run, plan: Plan, i: int, now: dt.datetime) -> dict[str, Any]:
        s = row.steps[i]
        step = plan.steps[i]
        params = row.params
        started = parse_time(s["started_at"]) or now
        uid = s["local_uid"]
        deliveries = sorted(self.store.outbox.list(local_uid=uid, limit=50)[0], key=lambda d: d.id)
        document = None  # the attempt the step started; else the one a re-send made (after RATE_LIMIT)
        for candidate in [uid] + [x["local_uid"] for x in (s.get("sends") or []) if x["local_uid"].lower() != uid.lower()]:
            history = self.store.documents.history(candidate)
            if history:
                document = history[-1]
                break
        polls = self.store.journal.polls_since(row.system, started) if any(c.kind == "poll" for c in step.expect) else []
        sends = s.get("sends") or []
        answers = self.store.journal.sync_answers([x["message_id"] for x in sends if x.get("message_id")])
        first_answer = answers.get(sends[0].get("message_id", "")) if sends else None
        ev = Evidence(started_at=started, deadline=started + dt.timedelta(seconds=params["step_timeout_s"]),
                      sends=sends, deliveries=deliveries, polls=polls, params=params,
                      document=document, first_answer=first_answer)
        verdict = judge_step(step, ev, now)
        values: dict[str, Any] = {
            "observed_record": observed_record(verdict.sentences, [document_sentence(document)]),
            "requests": [{**x, "sync_status": answer.sync_status if (answer := answers.get(x.get("message_id", "")))
                          else ""} for x in sends],
            "callbacks": [_delivery_view(d) for d in deliveries],
            "polls": [{"message_id": p.message_id, "operation": p.operation, "at": iso(p.received_at),
                       "sync_status": p.sync_status} for p in polls[:10]],
            "document": ({"status": document.status, "emdr_id": document.emdr_id, "errors": document.errors or [],
                          "findings": validation_findings(document.layers or [])} if document else None),
        }
        still_processing = document is not None and document.status == "pending" and now < ev.deadline
        if verdict.state in ("passed", "failed") and not still_processing:  # the verdict shows the document's fate
            values.update(state=verdict.state, finished_at=iso(now))
        return values

    def _judge_waiting(self, steps: list[dict[str, Any]], row: Run, params: dict[str, float],
                       now: dt.datetime) -> dict[int, dict[str, Any]]:
        """A pending step fails with "no document received" once the step timeout passed since the
        previous step ended (since the run started, for the first); the later ones are not reached."""
        first = next((i for i, s in enumerate(steps) if s["state"] == "pending"), None)
        if first is None:
            return {}
        if first == 0:
            since = parse_time(row.created_at) or now
        else:
            prev = steps[first - 1]
            if prev["state"] not in ("passed", "failed"):
                return {}
            since = parse_time(prev.get("finished_at")) or now
        if now < since + dt.timedelta(seconds=params["step_timeout_s"]):
            return {}
        out = {first: {"state": "failed", "finished_at": iso(now), "observed_record": observed_record(
            [], [text("judge.no_document", system=row.system, timeout=secs(params["step_timeout_s"]))])}}
        for j in range(first + 1, len(steps)):
            if steps[j]["state"] == "pending":
                out[j] = {"state": "failed", "finished_at": iso(now), "observed_record": observed_record(
                    [], [text("judge.not_reached", step=steps[first]["id"])])}
        return out

    # ---- views ---------------------------------------------------------------------------------
    @staticmethod
    def view(row: Run, lang: str = DEFAULT_LANG) -> dict[str, Any]:
        """The run as the admin API answers it (CONTRACT §10), its sentences in ``lang``."""
        params = row.params or {}
        steps = []
        for s in row.steps:
            steps.append({
                "id": s["id"], "title": (lang == "ru" and s.get("title_ru")) or s["title"], "state": s["state"],
                "expected": expected_text(lang, s),
                "observed": observed_text(lang, s), "local_uid": s.get("local_uid"),
                "started_at": s.get("started_at"), "finished_at": s.get("finished_at"),
                "requests": [{k: x.get(k) for k in ("message_id", "local_uid", "at", "same_uid", "sync_status")}
                             for x in (s.get("requests") or s.get("sends") or [])],
                "callbacks": s.get("callbacks") or [], "polls": s.get("polls") or [], "document": s.get("document"),
            })
        return {"id": row.id, "system": row.system, "plan": row.plan, "state": row.state,
                "passed": row.passed, "created_at": iso(row.created_at), "finished_at": iso(row.finished_at),
                "step_timeout_s": params.get("step_timeout_s"), "retry_after_s": params.get("retry_after_s"),
                "steps": steps}


def _copy(spec: dict[str, Any] | None) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, list) else (dict(v) if isinstance(v, dict) else v))
            for k, v in (spec or {}).items()}


def _delivery_view(d: Delivery) -> dict[str, Any]:
    first = (d.attempts or [None])[0] or {}
    return {"id": d.id, "note": d.note or "", "relates_to": d.relates_to, "status": d.status,
            "due_at": iso(d.due_at), "attempts": len(d.attempts or []),
            "first_http_status": first.get("http_status"), "first_duration_ms": first.get("duration_ms")}
