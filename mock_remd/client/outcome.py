"""Learning what became of a registerDocument request: from the result callback or the admin API."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from mock_remd.catalog.user_messages import network_failure, say
from mock_remd.client.admin_client import AdminClient, AdminError
from mock_remd.client.sink import CallbackSink
from mock_remd.domain.model import normalize_message_id

REGISTERED, REJECTED, NO_ANSWER, ACCEPTED = "registered", "rejected", "no-answer", "accepted"
#: ``accepted``: the synchronous answer accepted the request and the result was not waited for (--wait 0)
EXIT_CODES = {REGISTERED: 0, REJECTED: 1, NO_ANSWER: 2, ACCEPTED: 0}
#: seconds to keep waiting for the callback once the admin API shows a final status
CALLBACK_GRACE = 1.5
POLL_INTERVAL = 0.5


@dataclass
class Outcome:
    """The result of one ``send``: ``result`` registered | rejected | no-answer and where it came from."""

    result: str
    #: sync (the synchronous answer), callback, registry (the admin API), none
    source: str
    local_uid: str = ""
    message_id: str = ""
    emdr_id: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    detail: str = ""
    elapsed: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 registered (or accepted, not waited for), 1 rejected, 2 no answer."""
        return EXIT_CODES[self.result]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        out["elapsed"] = round(self.elapsed, 3)
        out["exit_code"] = self.exit_code
        return out

    def lines(self, lang: str = "ru") -> list[str]:
        """Human-readable report in ``lang``: one headline, then one line per error (the registry's words)."""
        suffix = ""
        if self.source != "none":
            via = say(lang, f"outcome.via.{self.source}")
            suffix = f" ({say(lang, 'outcome.via', via=via, seconds=f'{self.elapsed:.1f}')})"
        if self.result == REGISTERED:
            head = say(lang, "outcome.registered", emdr_id=self.emdr_id, local_uid=self.local_uid) + suffix
        elif self.result == REJECTED:
            head = say(lang, "outcome.rejected", local_uid=self.local_uid) + suffix
        elif self.result == ACCEPTED:
            head = say(lang, "outcome.accepted", local_uid=self.local_uid)
        else:
            head = say(lang, "outcome.no_answer", local_uid=self.local_uid)
        out = [head] + [f"  {e.get('code', '')}: {e.get('message', '')}" for e in self.errors]
        if self.detail:
            out.append(f"  ({self.detail})")
        return out


def from_registry(doc: dict[str, Any], started: float, note: str = "") -> Outcome:
    """An outcome from a final ``GET /_admin/documents/{localUid}`` entry."""
    status = doc.get("status")
    return Outcome(
        REGISTERED if status == "registered" else REJECTED, "registry", local_uid=doc.get("local_uid", ""),
        message_id=doc.get("message_id", ""), emdr_id=doc.get("emdr_id") or "",
        errors=[{"code": e.get("code", ""), "message": e.get("message", "")} for e in doc.get("errors") or []],
        detail=note, elapsed=time.monotonic() - started,
    )


def _final_entry(admin: AdminClient, local_uid: str, message_id: str,
                 lang: str = "en") -> tuple[dict[str, Any] | None, str]:
    """The registry entry of this request once it is final, else (None, what was seen, in ``lang``)."""
    try:
        doc = admin.document(local_uid)
    except requests.RequestException as exc:  # the library's words stay out of the progress line
        return None, say(lang, "outcome.seen.admin", reason=network_failure(lang, exc, admin.base_url))
    except AdminError as exc:
        return None, say(lang, "outcome.seen.http", status=exc.status)
    if doc is None:
        return None, say(lang, "outcome.seen.not_yet")
    if normalize_message_id(doc.get("message_id")) != message_id:
        return None, say(lang, "outcome.seen.earlier")
    if doc.get("status") not in ("registered", "rejected"):
        return None, say(lang, "outcome.seen.status", status=doc.get("status"))
    return doc, str(doc.get("status"))


def wait_outcome(admin: AdminClient, local_uid: str, message_id: str, *, sink: CallbackSink | None,
                 timeout: float, progress: Callable[[float, str], None] | None = None,
                 route: Any = None, lang: str = "en") -> Outcome:
    """Wait up to ``timeout`` s for the callback on ``sink`` (if any) while polling the admin API.

    The callback wins when it arrives. Without a sink — or when the registry is final but no callback
    reached the sink within :data:`CALLBACK_GRACE` s (the server cannot reach back, or a scenario
    holds the callback back) — the admin API's registry entry is the answer, with a note saying what
    did arrive (a malformed callback, one with a foreign correlation id) or that none was queued.
    ``route`` (a :class:`~mock_remd.client.callback_route.CallbackRoute`) forwards callbacks meant
    for other sends waiting at the same time. Notes and progress are in ``lang``.
    """
    started = time.monotonic()
    deadline = started + timeout
    mid = normalize_message_id(message_id)
    final_since: float | None = None
    seen = say(lang, "outcome.seen.waiting")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            arrived = _arrivals(sink, route, mid, lang)
            return Outcome(NO_ANSWER, "none", local_uid=local_uid, message_id=mid,
                           detail=say(lang, "outcome.timeout", seconds=f"{timeout:g}", seen=seen)
                           + (f"; {arrived}" if arrived else ""),
                           elapsed=time.monotonic() - started)
        if progress:
            progress(time.monotonic() - started, seen)
        if sink is not None:
            try:
                res = sink.wait_for(mid, timeout=min(POLL_INTERVAL, left))
            except TimeoutError:
                if route is not None:
                    route.forward_foreign(sink)
            else:
                return Outcome(
                    REGISTERED if res.status == "success" else REJECTED, "callback", local_uid=res.local_uid or local_uid,
                    message_id=mid, emdr_id=res.emdr_id, errors=list(res.errors),
                    elapsed=time.monotonic() - started,
                )
        else:
            time.sleep(min(POLL_INTERVAL, left))  # polling a remote server: nothing to block on
        doc, seen = _final_entry(admin, local_uid, mid, lang)
        if doc is None:
            continue
        if sink is None:
            return from_registry(doc, started)
        final_since = final_since or time.monotonic()
        if time.monotonic() - final_since >= CALLBACK_GRACE:
            return from_registry(doc, started, _callback_note(admin, mid, sink, route, lang))


def _arrivals(sink: CallbackSink | None, route: Any, message_id: str, lang: str = "en") -> str:
    """What reached the sink that was not this request's readable callback (empty when nothing)."""
    if sink is None:
        return ""
    if route is not None:
        route.forward_foreign(sink)
    malformed = [r for r in sink.results if not r.well_formed or not (r.status and r.relates_to)]
    if malformed:
        return say(lang, "outcome.malformed", size=len(malformed[0].raw))
    foreign = list(route.foreign) if route is not None else [
        r for r in sink.results if r.well_formed and r.relates_to and normalize_message_id(r.relates_to) != message_id]
    if foreign:
        return say(lang, "outcome.foreign", relates_to=foreign[0].relates_to)
    return ""


def _callback_note(admin: AdminClient, message_id: str, sink: CallbackSink | None = None, route: Any = None,
                   lang: str = "en") -> str:
    arrived = _arrivals(sink, route, message_id, lang)
    if arrived:
        return arrived
    try:
        deliveries = admin.callbacks(relates_to=message_id)
    except (requests.RequestException, AdminError):
        return say(lang, "outcome.no_callback")
    if not deliveries:
        return say(lang, "outcome.none_queued")
    d = deliveries[0]
    attempts = d.get("attempts") or []
    last = attempts[-1] if attempts else {}
    why = last.get("error") or (f"HTTP {last.get('http_status')}" if last else say(lang, "outcome.not_attempted"))
    return say(lang, "outcome.delivery", url=d.get("url"), status=d.get("status"), why=why)
