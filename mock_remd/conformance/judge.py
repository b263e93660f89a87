"""Judging one step from what was observed: the MIS's requests, its answers to our callbacks, its polls.

Pure functions over plain values (no store, no clock): :func:`judge_step` gets a :class:`Evidence`
and ``now`` and says ``passed``, ``failed`` or ``waiting``, with sentences a developer can act on.
The sentences are catalogue messages (:class:`~mock_remd.catalog.user_messages.Text`): a run stores
their keys and values, and each reader gets them in its own language (:func:`observed_text`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mock_remd.catalog.user_messages import MESSAGES, Text, text
from mock_remd.conformance.plan import Check, PlanStep
from mock_remd.store.documents import Document
from mock_remd.store.journal import JournalEntry
from mock_remd.store.outbox import Delivery


@dataclass
class Evidence:
    """What one running step has seen so far."""

    started_at: dt.datetime
    deadline: dt.datetime
    #: the step's registerDocument requests: ``{at (datetime), local_uid, same_uid, message_id}``, oldest first
    sends: list[dict[str, Any]]
    #: deliveries of the step's document, oldest first
    deliveries: list[Delivery]
    #: the system's search/get requests since the step started, oldest first
    polls: list[JournalEntry]
    params: dict[str, float]
    #: the document as registered or rejected, None while unknown
    document: Document | None = None
    #: the journal entry of the first request (its synchronous answer)
    first_answer: JournalEntry | None = None


@dataclass
class Verdict:
    state: str  # passed | failed | waiting
    #: clauses to be joined with "; " into one sentence (see :func:`observed_text`)
    sentences: list[Text] = field(default_factory=list)


def secs(value: float) -> Text:
    """Seconds for sentences: ``0.2 s``, ``1.1 s``, ``60 s`` (``0.2 с`` … in Russian)."""
    if value >= 10 or float(value).is_integer():
        number = f"{value:.0f}"
    else:
        number = f"{value:.1f}" if value >= 0.1 else f"{value:.2f}"
    return text("judge.secs", n=number)


def short_uid(uid: str) -> str:
    return uid[:8] + "…" if len(uid) > 12 else uid


def parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return None


def describe_attempt(attempt: dict[str, Any]) -> Text:
    """How the MIS answered one callback attempt: ``HTTP 200 after 0.0 s`` or why there was no answer."""
    took = secs(float(attempt.get("duration_ms") or 0) / 1000)
    if attempt.get("http_status") is not None:
        return text("judge.attempt.http", status=attempt["http_status"], took=took)
    error = str(attempt.get("error") or "").lower()
    if error.startswith("timeout") or "не ответил за" in error or "не принял соединение" in error:
        return text("judge.attempt.timeout")
    if "refused" in error or "отклонено" in error:
        return text("judge.attempt.refused")
    if any(w in error for w in ("closed", "aborted", "reset", "разорвал")):
        return text("judge.attempt.closed", took=took)
    return text("judge.attempt.none", took=took)


def describe_expect(check: Check, params: dict[str, float], step: PlanStep) -> Text:
    """The expectation of one check as a clause."""
    if check.kind == "ack":
        n = step.callbacks_expected
        what = "judge.expect.both" if n == 2 else ("judge.expect.every" if n > 2 else "judge.expect.the_callback")
        code = "judge.expect.2xx" if check.status == "2xx" else "judge.expect.any_status"
        return text("judge.expect.ack", what=text(what), code=text(code),
                    within=secs(check.seconds("within_s", params)))
    if check.kind == "foreign_ack":
        code = "judge.expect.at_all" if check.status == "any" else "judge.expect.2xx"
        return text("judge.expect.foreign", code=text(code), within=secs(check.seconds("within_s", params)))
    if check.kind == "resend":
        low = check.seconds("not_before_s", params)
        after = text("judge.expect.after", low=secs(low)) if low else text("judge.expect.again")
        return text("judge.expect.resend", after=after, timeout=secs(params["step_timeout_s"]))
    if check.kind == "no_resend":
        return text("judge.expect.no_resend")
    return text("judge.expect.poll", within=secs(params["step_timeout_s"]))


def expected_sentence(step: PlanStep, params: dict[str, float]) -> Text:
    """The step's expectation: its checks joined."""
    return text("judge.expected", checks=[describe_expect(c, params, step) for c in step.expect])


# ---- the checks --------------------------------------------------------------------------------
def _own(ev: Evidence) -> list[Delivery]:
    return [d for d in ev.deliveries if d.note != "foreign"]


def _ack(check: Check, step: PlanStep, ev: Evidence, now: dt.datetime, timed_out: bool) -> Verdict:
    within = check.seconds("within_s", ev.params)
    own = _own(ev)[: max(step.callbacks_expected, 1)]
    parts, state = [], "passed"
    for n, d in enumerate(own, 1):
        label = text("judge.the_callback") if step.callbacks_expected <= 1 else text("judge.callback_n", n=n)
        attempts = d.attempts or []
        if not attempts:
            state = "waiting" if state == "passed" else state
            parts.append(text("judge.not_answered_yet", label=label))
            continue
        a = attempts[0]
        took = float(a.get("duration_ms") or 0) / 1000
        ok = a.get("http_status") is not None and (check.status == "any" or 200 <= int(a["http_status"]) < 300)
        ok = ok and took <= within
        parts.append(text("judge.answered" if a.get("http_status") is not None else "judge.not_answered",
                          label=label, attempt=describe_attempt(a)))
        if not ok:
            state = "failed"
    if len(own) < step.callbacks_expected and state != "failed":
        state = "waiting"
        if not own:
            parts.append(_why_no_callback(ev))
    if state == "waiting" and timed_out:
        state = "failed"
    return Verdict(state, parts)


def _why_no_callback(ev: Evidence) -> Text:
    answer = ev.first_answer
    if answer is not None and answer.sync_status and answer.sync_status != "success":
        codes = ", ".join(e.get("code", "") for e in answer.errors or []) or answer.sync_status
        return text("judge.no_callback_sync", codes=codes)
    if ev.document is None or ev.document.status == "pending":
        return text("judge.no_callback_processing")
    return text("judge.no_callback_yet")


def _foreign_ack(check: Check, ev: Evidence, timed_out: bool) -> Verdict:
    foreign = [d for d in ev.deliveries if d.note == "foreign"]
    if not foreign or not foreign[0].attempts:
        return Verdict("failed" if timed_out else "waiting", [text("judge.foreign_waiting")])
    a = foreign[0].attempts[0]
    took = float(a.get("duration_ms") or 0) / 1000
    hs = a.get("http_status")
    ok = hs is not None and (check.status == "any" or 200 <= int(hs) < 300) and took <= check.seconds("within_s", ev.params)
    said = text("judge.foreign_answered" if hs is not None else "judge.foreign_not_answered",
                attempt=describe_attempt(a))
    return Verdict("passed" if ok else "failed", [said])


def _resend(check: Check, ev: Evidence, timed_out: bool) -> Verdict:
    low = check.seconds("not_before_s", ev.params)
    first = ev.sends[0]
    want = text("judge.want_after", low=secs(low)) if low else text("judge.want")
    if len(ev.sends) < 2:
        if timed_out:
            return Verdict("failed", [text("judge.no_resend_in_time", timeout=secs(ev.params["step_timeout_s"]), want=want)])
        return Verdict("waiting", [text("judge.no_resend_yet")])
    again = ev.sends[1]
    delay = (parse_time(again["at"]) - parse_time(first["at"])).total_seconds()  # type: ignore[operator]
    if not again.get("same_uid"):
        return Verdict("failed", [text("judge.resent_new_uid", delay=secs(delay), uid=short_uid(again["local_uid"]),
                                       want=want)])
    if delay < low:
        return Verdict("failed", [text("judge.resent_too_soon", delay=secs(delay), want=want)])
    return Verdict("passed", [text("judge.resent", delay=secs(delay))])


def _no_resend(check: Check, step: PlanStep, ev: Evidence, now: dt.datetime, timed_out: bool) -> Verdict:
    if len(ev.sends) > 1:
        first, again = ev.sends[0], ev.sends[1]
        delay = (parse_time(again["at"]) - parse_time(first["at"])).total_seconds()  # type: ignore[operator]
        how = text("judge.with_same_uid") if again.get("same_uid") else \
            text("judge.with_new_uid", uid=short_uid(again["local_uid"]))
        return Verdict("failed", [text("judge.resent_unwanted", delay=secs(delay), how=how)])
    own = _own(ev)
    last = ev.started_at
    if len(own) < step.callbacks_expected or any(not d.attempts for d in own):
        return Verdict("failed" if timed_out else "waiting", [])
    for d in own:
        at = parse_time(d.attempts[0].get("at"))
        if at is not None:
            last = max(last, at + dt.timedelta(milliseconds=float(d.attempts[0].get("duration_ms") or 0)))
    if now >= last + dt.timedelta(seconds=check.seconds("quiet_s", ev.params)) or timed_out:
        return Verdict("passed", [text("judge.not_resent")])
    return Verdict("waiting", [])


def _poll(ev: Evidence, timed_out: bool) -> Verdict:
    if ev.polls:
        p = ev.polls[0]
        delay = (parse_time(p.received_at) - ev.started_at).total_seconds()  # type: ignore[operator]
        detail = p.detail or {}
        if p.operation == "searchRegistryItem":
            found = text("judge.poll_search", n=detail.get("matches", 0))
        else:
            status = text(f"judge.sync.{p.sync_status}") if f"judge.sync.{p.sync_status}" in MESSAGES else p.sync_status
            found = text("judge.poll_get", emdr_id=detail.get("emdr_id", ""), status=status)
        return Verdict("passed", [text("judge.polled", operation=p.operation, delay=secs(max(delay, 0)), found=found)])
    if timed_out:
        return Verdict("failed", [text("judge.not_polled", timeout=secs(ev.params["step_timeout_s"]))])
    return Verdict("waiting", [])


def judge_check(check: Check, step: PlanStep, ev: Evidence, now: dt.datetime) -> Verdict:
    """One check of a running step; ``failed`` for what is still undecided once the deadline passed."""
    timed_out = now >= ev.deadline
    if check.kind == "ack":
        return _ack(check, step, ev, now, timed_out)
    if check.kind == "foreign_ack":
        return _foreign_ack(check, ev, timed_out)
    if check.kind == "resend":
        return _resend(check, ev, timed_out)
    if check.kind == "no_resend":
        return _no_resend(check, step, ev, now, timed_out)
    return _poll(ev, timed_out)


def validation_findings(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The error findings of the layers that ran: ``{layer, code, message}``."""
    return [{"layer": lr.get("name"), "code": f.get("code"), "message": f.get("message")}
            for lr in layers or [] if lr.get("ran")
            for f in lr.get("findings") or [] if f.get("severity", "error") == "error"]


def document_sentence(document: Document | None) -> Text | None:
    """What became of the document and what validation found in it, for ``observed``."""
    if not document:
        return None
    if document.status == "registered":
        outcome = text("judge.doc.registered", emdr_id=document.emdr_id)
    elif document.status == "rejected":
        codes = ", ".join(dict.fromkeys(e.get("code", "") for e in document.errors or []))
        outcome = text("judge.doc.rejected", codes=codes)
    else:
        return text("judge.doc.pending")
    layers = document.layers or []
    findings = validation_findings(layers)
    if findings:
        head = [text("judge.doc.finding", code=f["code"], message=f["message"], layer=f["layer"]) for f in findings[:3]]
        more = text("judge.doc.more", n=len(findings) - 3) if len(findings) > 3 else ""
        forced = text("judge.doc.forced") if document.status == "registered" else ""
        return text("judge.doc.findings", outcome=outcome, forced=forced, head=head, more=more)
    ran = [lr.get("name") for lr in layers if lr.get("ran")]
    return text("judge.doc.clean", outcome=outcome, ran=", ".join(ran)) if ran else text("judge.doc.bare", outcome=outcome)


def observed_record(clauses: list[Text], sentences: list[Text | None]) -> dict[str, Any]:
    """What a step stores as its ``observed``: the keys and values of its clauses (one sentence, joined with
    "; ") and of its whole sentences, rendered in the reader's language by :func:`observed_text`."""
    return {"clauses": [c.as_dict() for c in clauses], "sentences": [s.as_dict() for s in sentences if s]}


def observed_text(lang: str, step: dict[str, Any]) -> str:
    """A stored step's ``observed`` in ``lang``; a step stored as text (before verdicts were messages, or
    with a key this catalogue lacks) keeps its stored text."""
    record = step.get("observed_record")
    if isinstance(record, dict):
        clauses = [Text.from_dict(c) for c in record.get("clauses") or []]
        sentences = [Text.from_dict(c) for c in record.get("sentences") or []]
        if all(clauses) and all(sentences):
            joined = "; ".join(c.render(lang) for c in clauses if c)
            joined = joined[:1].upper() + joined[1:] + "." if joined else ""
            return " ".join(x for x in [joined, *(s.render(lang) for s in sentences if s)] if x)
    return str(step.get("observed") or "")


def expected_text(lang: str, step: dict[str, Any]) -> str:
    """A stored step's ``expected`` in ``lang`` (its stored text for a run stored before it was a message)."""
    stored = Text.from_dict(step.get("expected_record"))
    return stored.render(lang) if stored else str(step.get("expected") or "")


def judge_step(step: PlanStep, ev: Evidence, now: dt.datetime) -> Verdict:
    """The step's state: failed as soon as one check failed, passed once all passed, else waiting."""
    verdicts = [judge_check(c, step, ev, now) for c in step.expect]
    sentences = [s for v in verdicts for s in v.sentences]
    if any(v.state == "failed" for v in verdicts) and not any(v.state == "waiting" for v in verdicts):
        state = "failed"  # decided once every check is: the report shows the whole behaviour
    elif all(v.state == "passed" for v in verdicts):
        state = "passed"
    else:
        state = "waiting"
    return Verdict(state, sentences)
