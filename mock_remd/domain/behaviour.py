"""What the mock should do differently for one request: the outcome of scenarios and magic values.

The registry core asks a :class:`BehaviourSource` once per request; the SOAP layer applies the
synchronous part (delay, fault, HTTP status, dropped connection), the processor and the outbox the
callback part.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from mock_remd.catalog import errors as E
from mock_remd.catalog.faults import fault_text
from mock_remd.catalog.findings import text as finding_text
from mock_remd.domain.model import RegisterRequest

DROP_MODES = ("reset", "empty", "garbage", "close")

# Limits of every value a request or a scenario can set (magic values and scenario files alike).
#: longest synchronous delay: it must not outlive the worker timeout
MAX_SYNC_DELAY_MS = 110_000
#: longest callback delay: one day
MAX_CALLBACK_DELAY_MS = 24 * 3600 * 1000
#: most copies of one callback
MAX_REPEAT = 100
#: HTTP statuses a scenario may answer with (1xx is not a final answer)
MIN_HTTP_STATUS, MAX_HTTP_STATUS = 200, 599


class BadMagicValue(ValueError):
    """A magic value whose number is not a whole number in its range; :attr:`expected` is the catalogue
    sentence saying what is expected (:data:`mock_remd.catalog.errors.EXPECTED_WHOLE_NUMBER`)."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


@dataclass
class SyncBehaviour:
    delay_ms: int = 0
    errors: list[dict[str, str]] | None = None
    fault: dict[str, str] | None = None
    http_status: int | None = None
    drop: str | None = None

    @property
    def replaces_answer(self) -> bool:
        return bool(self.errors or self.fault or self.http_status or self.drop)

    @property
    def changes_answer(self) -> bool:
        """Whether the synchronous answer is other than the registry's own, or later (a delay)."""
        return bool(self.delay_ms) or self.replaces_answer

    @property
    def fault_is_client(self) -> bool:
        """Whether the fault blames the client (``Client.*``/``Sender``: HTTP 400) rather than the server (500)."""
        code = str((self.fault or {}).get("code") or "Receiver")
        return code.lower() in ("sender", "client") or code.startswith("Client")

    @property
    def answer_status(self) -> int:
        """The HTTP status of the synchronous answer: the scenario's, a fault's (400 or 500), else 200."""
        if self.http_status:
            return int(self.http_status)
        if self.fault:
            return 400 if self.fault_is_client else 500
        return 200


@dataclass
class CallbackBehaviour:
    delay_ms: int | None = None
    status: str | None = None
    errors: list[dict[str, str]] | None = None
    repeat: int = 1
    #: pause between the repeated copies (``repeat``), in ms
    repeat_interval_ms: int = 0
    skip: bool = False
    relates_to: str | None = None
    malformed: bool = False
    #: before the right callback, send one meant for someone else (unknown RelatesTo and localUid)
    foreign_first: bool = False
    #: "1.1" or "1.2": overrides the system's ``callback_soap_version`` for this document
    soap_version: str | None = None
    #: the federal phase (regional REMD → ФРЭМД): ``status``, ``errors``, ``delay_ms``, ``skip``;
    #: given, it makes the outcome two-phase even for a system without ``send_to_fremd``
    fremd: dict[str, Any] | None = None


@dataclass
class Behaviour:
    """Sync and callback changes, and where they came from (for the journal)."""

    sync: SyncBehaviour = field(default_factory=SyncBehaviour)
    callback: CallbackBehaviour = field(default_factory=CallbackBehaviour)
    source: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Behaviour:
        if not d:
            return cls()
        return cls(
            sync=SyncBehaviour(**d.get("sync", {})),
            callback=CallbackBehaviour(**d.get("callback", {})),
            source=d.get("source", {}),
        )


@dataclass
class RequestFacts:
    """What scenario rules can match on."""

    operation: str
    system: str = ""
    kind: str = ""
    organization: str = ""
    patient_snils: str = ""
    local_uid: str = ""
    document_number: str = ""
    request: RegisterRequest | None = None


class BehaviourSource(Protocol):
    """Decides the behaviour for a request (scenario engine, magic values, or both)."""

    def decide(self, facts: RequestFacts) -> Behaviour | None: ...

    def decides_nothing(self, facts: RequestFacts) -> bool:
        """True only when :meth:`decide` would return None without writing anything (nothing active
        for this request: a caller that must not wait then need not ask). A source without this
        method is asked every time."""
        ...


def decides_nothing(source: BehaviourSource, facts: RequestFacts) -> bool:
    """``source.decides_nothing(facts)``; False for a source that cannot tell."""
    ask = getattr(source, "decides_nothing", None)
    return bool(ask(facts)) if ask is not None else False


_MAGIC = re.compile(r"^MOCK:(?P<rest>.+)$", re.IGNORECASE)


def _number(text: str, what: str, low: int, high: int, unit: str = "") -> int:
    """``text`` as a whole number in ``low..high``, else :class:`BadMagicValue` saying so."""
    text = text.strip()
    expected = E.EXPECTED_WHOLE_NUMBER.format(what=what, low=low, high=high, unit=unit)
    if not text or len(text) > len(str(high)) + 1 or not text.lstrip("+-").isdigit():
        raise BadMagicValue(expected)
    value = int(text)
    if not low <= value <= high:
        raise BadMagicValue(expected)
    return value


def magic_behaviour(document_number: str) -> Behaviour | None:
    """CONTRACT §7 magic values in ``documentNumber`` (``MOCK:…``); None when not magic or unknown.

    A known magic value whose number is out of its range (``MOCK:DELAY:-1``, ``MOCK:HTTP:999``) is a
    client error: a SOAP Fault (HTTP 400) whose reason is the VALIDATION_ERROR sentence naming
    documentNumber and the value.
    """
    try:
        return _magic(document_number)
    except BadMagicValue as exc:
        item = E.bad_value("documentNumber", document_number.strip(), exc.expected)
        found = fault_text("invalid_magic_value", code=item.code, message=item.message)
        fault = {"code": found.code, "reason": found.reason}
        return Behaviour(sync=SyncBehaviour(fault=fault), source={"magic": document_number.strip()[:256]})


def _magic(document_number: str) -> Behaviour | None:
    m = _MAGIC.match((document_number or "").strip())
    if not m:
        return None
    parts = [p.strip() for p in m.group("rest").split(":")]
    head = parts[0].upper()
    b = Behaviour(source={"magic": document_number.strip()})
    if head == "SYNC" and len(parts) >= 2:
        b.sync.errors = [{"code": parts[1].upper()}]
    elif head == "FAULT":
        b.sync.fault = {"code": "Receiver", "reason": E.message("INTERNAL_ERROR")}
    elif head == "HTTP" and len(parts) >= 2:
        b.sync.http_status = _number(parts[1], finding_text("magic.http_status"), MIN_HTTP_STATUS, MAX_HTTP_STATUS)
    elif head == "DELAY" and len(parts) >= 2:
        b.sync.delay_ms = _number(parts[1], finding_text("magic.sync_delay"), 0, MAX_SYNC_DELAY_MS,
                                  finding_text("magic.unit_ms"))
    elif head == "DROP" and len(parts) >= 2 and parts[1].lower() in DROP_MODES:
        b.sync.drop = parts[1].lower()
    elif head == "FREMD" and len(parts) >= 2:
        what = parts[1].upper()
        if what == "NEVER":
            b.callback.fremd = {"skip": True}
        elif what == "SUCCESS":
            b.callback.fremd = {"status": "success"}
        else:
            b.callback.fremd = {"status": "error", "errors": [{"code": what}]}
    elif head == "CALLBACK" and len(parts) >= 2:
        what = parts[1].upper()
        if what == "DUPLICATE":
            b.callback.repeat = 2
        elif what == "NEVER":
            b.callback.skip = True
        elif what == "DELAY" and len(parts) >= 3:
            b.callback.delay_ms = _number(parts[2], finding_text("magic.callback_delay"), 0,
                                              MAX_CALLBACK_DELAY_MS, finding_text("magic.unit_ms"))
        elif what == "MALFORMED":
            b.callback.malformed = True
        elif what == "WRONG_RELATES_TO":
            b.callback.relates_to = "00000000-0000-0000-0000-000000000000"
        else:
            b.callback.status = "error"
            b.callback.errors = [{"code": what}]
    else:
        return None
    return b


class FirstOf:
    """A :class:`BehaviourSource` asking several in order; the first that decides wins."""

    def __init__(self, *sources: BehaviourSource | None) -> None:
        self.sources = [s for s in sources if s is not None]

    def decide(self, facts: RequestFacts) -> Behaviour | None:
        for source in self.sources:
            b = source.decide(facts)
            if b is not None:
                return b
        return None

    def decides_nothing(self, facts: RequestFacts) -> bool:
        """True when none of the sources decides anything for ``facts``."""
        return all(decides_nothing(source, facts) for source in self.sources)
