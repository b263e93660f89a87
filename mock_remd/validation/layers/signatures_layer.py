"""Layer ``signatures``: the detached GOST CMS signatures of the request, checked as the registry checks them.

Levels (``MOCK_REMD_SIGNATURES``): ``off``; ``structure`` — decoding, CMS shape, signer count,
certificate, algorithms, certificate dates and key usage, signer ↔ metadata, organisation signature
occurrence, duplicates, consistency of the messageDigest attributes and, with ``MOCK_REMD_TRUSTED_CA``,
the chain; ``digest`` (default) — plus Streebog of the document bytes against each messageDigest;
``crypto`` — plus the signature values (and chain links) verified with the certificates' keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mock_remd.catalog import errors
from mock_remd.catalog.findings import FINDINGS
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import ServerFault
from mock_remd.domain.model import Person, RegisterRequest, snils_digits
from mock_remd.gost import certs, oids, streebog
from mock_remd.validation.context import SIGNATURE_LEVELS, DocumentContext, ValidationSettings
from mock_remd.validation.report import Finding, LayerReport
from mock_remd.validation.signatures import verify
from mock_remd.validation.signatures.cms import (
    InspectedSignature,
    SignatureProblem,
    algorithm_problem,
    inspect_signature,
)

_RANK = {name: i for i, name in enumerate(SIGNATURE_LEVELS)}
#: whose signature it is: said for every signature, bound once
_LABEL_PERSON = FINDINGS["sig.label_person"].format
_LABEL_ORG = FINDINGS["sig.label_org"]
_WHOSE_ORG = FINDINGS["sig.whose_org"]
_WHOSE_PERSON = FINDINGS["sig.whose_person"]


@dataclass
class _Entry:
    """One signature of the request and whose it is."""

    label: str
    path: str
    data_b64: str
    person: Person | None  # None for the organisation signature
    inspected: InspectedSignature | None = None


def _parse_datetime(value: str) -> dt.datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone(dt.timedelta(hours=3)))
    return parsed


def _entries(request: RegisterRequest) -> tuple[list[_Entry], list[Finding]]:
    entries: list[_Entry] = []
    findings: list[Finding] = []
    for i, sign in enumerate(request.personal_signs, 1):
        person = sign.doctor.person
        snils = snils_digits(person.snils)
        label = _LABEL_PERSON(snils=snils) if snils else finding_text("sig.label_person_number", number=i)
        path = f"personalSigns/personalSign[{i}]/signature/data"
        if sign.signature is None or not sign.signature.data_b64.strip():
            if len(request.personal_signs) > 1:
                text = finding_text("sig.of_entry", label=label, detail=finding_text("sig.missing"))
                findings.append(Finding("NO_SIGNATURE", text, rule="sig-missing", path=path))
            continue
        entries.append(_Entry(label, path, sign.signature.data_b64, person))
    if not entries and not findings:
        findings.append(Finding("NO_SIGNATURE", errors.message("NO_SIGNATURE"), rule="sig-none", path="personalSigns"))
    if request.org_signature is not None and request.org_signature.data_b64.strip():
        entries.append(_Entry(_LABEL_ORG, "orgSignature/data", request.org_signature.data_b64, None))
    return entries, findings


class SignaturesLayer:
    """Checks ``personalSigns`` and ``orgSignature`` against the document bytes and the request metadata."""

    name = "signatures"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings

    def run(self, ctx: DocumentContext) -> LayerReport:
        level = (ctx.settings.signatures or "digest").strip().lower()
        if level not in _RANK:
            level = "digest"
        details: dict = {"level": level, "streebog_backend": streebog.backend_name()}
        if level == "crypto":
            details["crypto_backend"] = verify.backend_name()
        if level == "off":
            report = LayerReport.skipped(self.name, finding_text("skip.signatures_off"))
            report.details = details
            return report
        request = ctx.request
        if request is None:
            report = LayerReport.skipped(self.name, finding_text("skip.signatures_no_request"))
            report.details = details
            return report
        check = _Checker(ctx, request, level)
        findings = check.run()
        details["signatures"] = check.summary
        if ctx.settings.trusted_ca is not None:
            details["trusted_ca"] = str(ctx.settings.trusted_ca)
        if check.unchecked_links:
            details["unverified_chain_links"] = sorted(set(check.unchecked_links))
        passed = not any(f.severity == "error" for f in findings)
        return LayerReport(self.name, True, passed, findings, details=details)


class _Checker:
    """The checks of one request, in the order the registry reports them."""

    def __init__(self, ctx: DocumentContext, request: RegisterRequest, level: str) -> None:
        self.ctx = ctx
        self.request = request
        self.level = level
        self.findings: list[Finding] = []
        self.summary: list[dict] = []
        self.created = _parse_datetime(request.creation_date_time)
        self._doc_digests: dict[int, bytes] = {}
        #: chain links no backend here can verify (GOST 2001 without OpenSSL's GOST 94)
        self.unchecked_links: list[str] = []

    def add(self, entry: _Entry | None, code: str, detail: str, rule: str) -> None:
        text = finding_text("sig.of_entry", label=entry.label, detail=detail) if entry is not None else detail
        self.findings.append(Finding(code, text, rule=rule, path=entry.path if entry else ""))

    def run(self) -> list[Finding]:
        entries, missing = _entries(self.request)
        self.findings.extend(missing)
        self._org_occurrence(entries)
        for entry in entries:
            self._inspect(entry)
        good = [e for e in entries if e.inspected is not None]
        self._duplicates(good)
        self._consistent_digests(good)
        if _RANK[self.level] >= _RANK["digest"]:
            self._document_digest(good)
        if _RANK[self.level] >= _RANK["crypto"]:
            self._signature_values(good)
        return self.findings

    # --- per request ---------------------------------------------------------------------------
    def _org_occurrence(self, entries: list[_Entry]) -> None:
        kind = self.ctx.kind or self.ctx.kinds().get(self.request.kind)
        if kind is None:
            return
        has_org = any(e.person is None for e in entries)
        if kind.mo_sign and not has_org:
            detail = finding_text("sig.org_required")
        elif has_org and not kind.mo_sign:
            detail = finding_text("sig.org_unexpected")
        else:
            return
        text = finding_text(
            "sig.org_occurrence", message=errors.message("ORG_SIGNATURE_OCCURRENCE_MISMATCH", kind=kind.id), detail=detail
        )
        self.findings.append(Finding("ORG_SIGNATURE_OCCURRENCE_MISMATCH", text, rule="sig-org", path="orgSignature"))

    def _duplicates(self, entries: list[_Entry]) -> None:
        seen: dict[bytes, _Entry] = {}
        for entry in entries:
            key = entry.inspected.signature
            first = seen.get(key)
            if first is not None:
                detail = finding_text("sig.duplicate", label=first.label, path=first.path)
                self.add(entry, "SIGNATURE_DUPLICATION", detail, "sig-dup")
            else:
                seen[key] = entry

    def _consistent_digests(self, entries: list[_Entry]) -> None:
        groups: dict[str, dict[bytes, list[_Entry]]] = {}
        for entry in entries:
            sig = entry.inspected
            if sig.message_digest is not None and sig.digest_oid in oids.DIGEST_BITS:
                groups.setdefault(sig.digest_oid, {}).setdefault(sig.message_digest, []).append(entry)
        for by_value in groups.values():
            if len(by_value) > 1:
                parts = "; ".join(
                    f"{', '.join(e.label for e in group)}: {value.hex()}" for value, group in by_value.items()
                )
                self.findings.append(
                    Finding(
                        "INCONSISTENT_DIGESTS",
                        finding_text(
                            "sig.inconsistent_digests", description=errors.describe("INCONSISTENT_DIGESTS"), parts=parts
                        ),
                        rule="sig-digests",
                        path="personalSigns",
                    )
                )

    def _document_digest(self, entries: list[_Entry]) -> None:
        for entry in entries:
            sig = entry.inspected
            bits = oids.DIGEST_BITS.get(sig.digest_oid)
            if bits is None or sig.message_digest is None:
                continue
            if bits not in self._doc_digests:
                self._doc_digests[bits] = streebog.digest(self.ctx.content, bits)
            actual = self._doc_digests[bits]
            if sig.message_digest != actual:
                detail = finding_text(
                    "sig.digest_detail", signature=sig.message_digest.hex(), document=actual.hex(), bits=bits
                )
                self.add(entry, "DIGEST_MISMATCH", errors.message("DIGEST_MISMATCH", detail=detail), "sig-digest")

    def _signature_values(self, entries: list[_Entry]) -> None:
        for entry in entries:
            sig = entry.inspected
            if algorithm_problem(sig) is not None:
                continue
            if not verify.verify_signer(sig):
                subject = sig.cert.subject_info
                who = subject.full_name or subject.common_name
                self.add(
                    entry,
                    "SIGNATURE_VERIFICATION_ERROR",
                    finding_text("sig.crypto_failed", serial=sig.cert.serial, who=who),
                    "sig-crypto",
                )

    # --- per signature -------------------------------------------------------------------------
    def _inspect(self, entry: _Entry) -> None:
        try:
            sig = inspect_signature(entry.data_b64)
        except SignatureProblem as problem:
            self.add(entry, problem.code, problem.detail, "sig-format")
            self.summary.append({"label": entry.label, "path": entry.path, "error": problem.code})
            return
        if sig.signed_attrs_der is None or sig.message_digest is None:
            self.add(
                entry,
                "WRONG_SIGNATURE_FORMAT",
                finding_text("sig.no_signed_attrs"),
                "sig-attrs",
            )
            self.summary.append({"label": entry.label, "path": entry.path, "error": "WRONG_SIGNATURE_FORMAT"})
            return
        entry.inspected = sig
        cert = sig.cert
        subject, not_before, not_after = cert.subject_info, cert.not_before, cert.not_after
        self.summary.append(
            {
                "label": entry.label,
                "path": entry.path,
                **cert.summary_facts,
                "digest_algorithm": sig.digest_oid,
                "signature_algorithm": sig.signature_oid,
            }
        )
        if sig.signing_time is None:
            self.add(entry, "WRONG_SIGNATURE_FORMAT", finding_text("sig.no_signing_time"), "sig-time")
        problem = algorithm_problem(sig)
        if problem:
            detail = finding_text("sig.unknown_algorithm", description=errors.describe("UNKNOWN_ALGORITHM"), problem=problem)
            self.add(entry, "UNKNOWN_ALGORITHM", detail, "sig-alg")
        self._dates(entry, not_before, not_after)
        if cert.key_usage_problem:
            self.add(entry, "INVALID_CERT_KEY_USAGE", cert.key_usage_problem, "sig-key-usage")
        self._metadata(entry, subject)
        self._chain(entry)

    def _dates(self, entry: _Entry, not_before: dt.datetime, not_after: dt.datetime) -> None:
        if self.created is None:
            return
        whose = _WHOSE_ORG if entry.person is None else _WHOSE_PERSON
        if self.created < not_before:
            created = self.created.isoformat()
            self.add(
                entry,
                "DOC_DATE_MISMATCH_CERT_NOT_BEFORE",
                finding_text("sig.cert_not_yet_valid", whose=whose, created=created, not_before=not_before.isoformat()),
                "sig-not-before",
            )
        elif self.created > not_after:
            created = self.created.isoformat()
            self.add(
                entry,
                "DOC_DATE_MISMATCH_CERT_NOT_AFTER",
                finding_text("sig.cert_expired", whose=whose, created=created, not_after=not_after.isoformat()),
                "sig-not-after",
            )

    def _metadata(self, entry: _Entry, subject: certs.SubjectInfo) -> None:
        code = "VALUE_MISMATCH_METADATA_AND_CERTIFICATE"
        person = entry.person
        if person is None:
            if not subject.ogrn and not subject.inn_le:
                self.add(
                    entry, code,
                    finding_text("sig.org_cert_not_legal_entity", owner=subject.full_name or subject.common_name),
                    "sig-org-cert",
                )
            return
        snils = snils_digits(person.snils)
        if subject.snils != snils:
            certificate = subject.snils or finding_text("sig.absent")
            self.add(entry, code, finding_text("sig.snils_mismatch", request=snils, certificate=certificate), "sig-snils")
            return
        cert_surname, cert_given = subject.holder_name
        key_surname, key_given = subject.holder_name_key
        req_given = " ".join(p for p in (person.name, person.patronymic) if p)
        if person.surname and certs.normalize_name(person.surname) != key_surname:
            detail = finding_text("sig.surname_mismatch", request=person.surname, certificate=cert_surname, snils=snils)
            self.add(entry, code, detail, "sig-surname")
        if req_given and certs.normalize_name(req_given) != key_given:
            detail = finding_text("sig.given_mismatch", request=req_given, certificate=cert_given, snils=snils)
            self.add(entry, code, detail, "sig-name")

    def _chain(self, entry: _Entry) -> None:
        bundle_path = self.ctx.settings.trusted_ca
        if bundle_path is None:
            return
        code = "CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT"
        sig = entry.inspected
        try:
            trusted = self.ctx.caches.ca_bundles.get(bundle_path)
        except (OSError, *certs.PARSE_ERRORS) as exc:  # the server's file, not the document: no defect of the document
            raise ServerFault(finding_text("fault.ca_unreadable", path=bundle_path)) from exc
        chain = certs.build_chain(sig.cert, sig.certificates, trusted)
        if chain is None:
            issuer = sig.cert.issuer.human_friendly
            self.add(entry, code, finding_text("sig.no_chain", description=errors.describe(code), issuer=issuer), "sig-chain")
            return
        for cert in chain[1:]:
            if self.created is not None and not (cert.not_before <= self.created <= cert.not_after):
                detail = finding_text("sig.ca_not_valid", ca=cert.subject.human_friendly)
                self.add(entry, code, detail, "sig-chain")
                return
        if _RANK[self.level] >= _RANK["crypto"]:
            for child, parent in zip(chain, chain[1:], strict=False):
                verdict = verify.verify_certificate(child, parent)
                if verdict is None:
                    self.unchecked_links.append(child.subject.human_friendly)
                elif not verdict:
                    self.add(
                        entry, code,
                        finding_text(
                            "sig.chain_link", child=child.subject.human_friendly, parent=parent.subject.human_friendly
                        ),
                        "sig-chain",
                    )
                    return

