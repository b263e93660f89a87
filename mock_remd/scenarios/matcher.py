"""Does a rule's ``match:`` fit a request? Answers with the reasons when it does not.

Only the conditions that depend on the request alone are checked here; ``nth`` (a counter),
``probability`` (a roll) and ``attempt`` (the per-document counter) need the engine's state and are
checked by :mod:`mock_remd.scenarios.engine`.
"""

from __future__ import annotations

import hashlib

from mock_remd.domain.behaviour import RequestFacts
from mock_remd.domain.model import snils_digits
from mock_remd.scenarios.model import Match


def _one_of(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else "one of " + ", ".join(values)


def mismatches(match: Match, facts: RequestFacts, *, attempt: int | None = None) -> list[str]:
    """Why ``facts`` do not satisfy ``match`` (empty list = they do), ``nth``/``probability`` aside.

    ``attempt`` is the number of this request among the requests for its localUid (None when the
    engine did not count, e.g. no localUid).
    """
    out: list[str] = []
    if match.operation and facts.operation not in match.operation:
        out.append(f"operation: wanted {_one_of(match.operation)}, the request was {facts.operation}")
    if match.system and facts.system not in match.system:
        out.append(f"system: wanted {_one_of(match.system)}, the request came from {facts.system or '(unknown)'}")
    if match.kind and (facts.kind or "").strip() not in match.kind:
        out.append(f"kind: wanted {_one_of(match.kind)}, the request had {facts.kind or '(none)'}")
    if match.organization and (facts.organization or "").strip() not in match.organization:
        out.append(f"organization: wanted {_one_of(match.organization)}, the request had {facts.organization or '(none)'}")
    if match.patient_snils and snils_digits(facts.patient_snils) not in match.patient_snils:
        out.append(f"patient_snils: wanted {_one_of(match.patient_snils)}, the request had {facts.patient_snils or '(none)'}")
    if match.local_uid is not None and not match.local_uid.search(facts.local_uid or ""):
        out.append(f"local_uid: {match.local_uid.pattern!r} does not match {facts.local_uid or '(none)'}")
    if match.document_number is not None and not match.document_number.search(facts.document_number or ""):
        out.append(f"document_number: {match.document_number.pattern!r} does not match {facts.document_number or '(none)'}")
    if match.attempt:
        if attempt is None:
            out.append("attempt: the request has no localUid to count attempts by")
        elif attempt not in match.attempt:
            wanted = ", ".join(str(a) for a in match.attempt)
            out.append(f"attempt: wanted attempt {wanted} for this localUid, this was attempt {attempt}")
    return out


def seeded_roll(seed: int, scenario: str, rule: int, n: int) -> float:
    """A number in [0, 1) fixed by the scenario's seed, the rule and how many rolls came before.

    The same seed gives the same sequence in any process and after restarts (unlike ``hash()``).
    """
    digest = hashlib.sha256(f"{seed}|{scenario}|{rule}|{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64
