"""Layer ``cross``: the ``registerDocument`` request against the document it registers.

Checks, in the registry's message shapes: ``localUid`` vs ``ClinicalDocument/id/@extension``; the
patient's SNILS, name, birth date and gender; the organisation and department; the creation date
vs ``effectiveTime``; the doctors of ``personalSigns`` vs author / legal authenticator
(``INVALID_DOCTOR_*``, ``LEGAL_AUTHENTICATOR_NOT_FOUND``); the kind's patient-info rule (``NO_SNILS``,
``PATIENT_OCCURRENCE_MISMATCH``) and ``SERIES_REQUIRED``; the request's ``associations`` vs the
header's ``relatedDocument`` / ``setId`` / ``versionNumber``. Without a request the layer does not run.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_remd.catalog import errors
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.kinds import Kind
from mock_remd.domain.model import Doctor, RegisterRequest, snils_digits
from mock_remd.validation.cda.access import NOT_CDA_REASON, child, is_cda_root, node_path
from mock_remd.validation.cda.document import CdaHeader, DocPerson
from mock_remd.validation.cda.timestamps import parse_ts, parse_xs_date, parse_xs_datetime, same_creation_time
from mock_remd.validation.cda.versions import read_identity
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.report import Finding, LayerReport


@dataclass(frozen=True)
class CrossRule:
    """One request↔document rule and the evidence that the registry checks it.

    ``source`` names an NSI 1520 column, a registry code of NSI 99.2.305 or a message text the
    registry sent (``../shared/data/remd-error-messages.tsv``, ``reference/remd-protocol.md`` §6.1),
    and the confidence of ``reference/remd-protocol.md`` where the rule is inferred (I) rather than
    seen (C); ``scope`` the kinds it applies to.
    """

    id: str
    source: str
    scope: str = "все виды"


_MSG = "текст реестра (remd-error-messages.tsv): "
_PROTO = "reference/remd-protocol.md "
CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("C-localUid", _MSG + "«Уникальный идентификатор документа в ЭМД [..] отличается от уникального "
              "идентификатора документа в запросе на регистрацию сведений [..]»"),
    CrossRule("C-patient-snils", _MSG + "«СНИЛС пациента в ЭМД [..] отличается от СНИЛС пациента в запросе на "
              "регистрацию сведений [..]»", "где запрос несёт СНИЛС пациента"),
    CrossRule("C-patient-birthDate", _PROTO + "§6.1 (C): «Дата рождения пациента в ЭМД [..] отличается от даты "
              "рождения пациента в запросе на регистрацию сведений [..]»", "где запрос несёт сведения о пациенте"),
    CrossRule("C-patient-family", _PROTO + "§2 п.9 (I): сведения о пациенте сверяются с recordTarget; текст по "
              "образцу C-patient-birthDate", "где запрос несёт фамилию пациента"),
    CrossRule("C-patient-given", _PROTO + "§2 п.9 (I): как C-patient-family", "где запрос несёт имя пациента"),
    CrossRule("C-patient-patronymic", _PROTO + "§2 п.9 (I): как C-patient-family",
              "где запрос несёт отчество пациента"),
    CrossRule("C-patient-gender", _PROTO + "§2 п.9 (I): как C-patient-family; пол сверяется и с ГИП "
              "(PATIENT_MPI_MISMATCH «Указанное значение [Пол пациента] …»)", "где запрос несёт пол пациента"),
    CrossRule("C-patient-occurrence", "НСИ 1520, столбец PATIENT_INFO; код PATIENT_OCCURRENCE_MISMATCH (НСИ 99.2.305)",
              "виды с PATIENT_INFO «Обязательны…»"),
    CrossRule("C-no-snils", "НСИ 1520, столбец PATIENT_INFO; " + _MSG + "NO_SNILS «СНИЛС пациента в составе сведений "
              "о пациенте обязателен для данного вида документов»", "виды с PATIENT_INFO «Обязательны с указанием СНИЛС»"),
    CrossRule("C-organization", _PROTO + "§2 п.5 и §7 (C): OID МО в запросе = custodian; " + _MSG
              + "«Организация [..] не привязана к РМИС [..]»", "где запрос несёт organization"),
    CrossRule("C-department", _PROTO + "§2 п.6 (I): подразделение — структурное подразделение МО "
              "(«не совпадает с СП providerOrganization…»)", "где запрос несёт department"),
    CrossRule("C-creationDateTime", _PROTO + "§2 п.4 (I): creationDateTime = effectiveTime СЭМД",
              "где creationDateTime разобран"),
    CrossRule("C-doctor", "коды INVALID_DOCTOR_* 106–112 (НСИ 99.2.305); " + _MSG + "INVALID_DOCTOR_NAME «Имя [..] "
              "медицинского работника в запросе на регистрацию отличается от имени [..] в СЭМД. СНИЛС [..]»",
              "каждый personalSign"),
    CrossRule("C-legalAuthenticator", "код LEGAL_AUTHENTICATOR_NOT_FOUND 109 (НСИ 99.2.305)",
              "документы с legalAuthenticator (наличие решает пакет вида)"),
    CrossRule("C-series", "НСИ 1520, столбец SERIES_REQUIRED; код SERIES_REQUIRED 58 (НСИ 99.2.305)",
              "виды с SERIES_REQUIRED «Да»"),
    CrossRule("C-version-setId", "CDA R2 (новая версия: тот же setId, relatedDocument RPLC); код CANT_REG_VERSION 5 "
              "(НСИ 99.2.305)", "документы с relatedDocument"),
    CrossRule("C-version-number", "CDA R2 / semd.md Main01-11 (versionNumber новой версии больше); код "
              "CANT_REG_VERSION 5", "документы с relatedDocument"),
    CrossRule("C-version-parent", _PROTO + "§2 п.12 (I): associations запроса и relatedDocument указывают на одну "
              "предыдущую версию", "запросы с associations"),
    CrossRule("C-version-association", _PROTO + "§2 п.12 (I); строгий режим (versions_strict), федеральное правило "
              "не известно", "только versions_strict"),
    CrossRule("C-version-related", _PROTO + "§2 п.12 (I); строгий режим (versions_strict)", "только versions_strict"),
    CrossRule("C-version-first", _PROTO + "§2 п.12 (I); строгий режим (versions_strict)", "только versions_strict"),
)


def same_name(a: str, b: str) -> bool:
    """Names compare without regard to case, surrounding/double spaces and ``ё``/``е``."""

    def norm(s: str) -> str:
        return " ".join(s.split()).casefold().replace("ё", "е")

    return norm(a) == norm(b)


class CrossLayer:
    """Compare the request's metadata with the document's header."""

    name = "cross"

    def __init__(self, settings: ValidationSettings) -> None:
        self.settings = settings

    def run(self, ctx: DocumentContext) -> LayerReport:
        """Run every request↔document check; skipped when there is no request."""
        if ctx.request is None:
            return LayerReport.skipped(self.name, finding_text("skip.no_request"))
        if ctx.root is None:
            return LayerReport.skipped(self.name, finding_text("skip.not_xml"))
        if not is_cda_root(ctx.root):
            return LayerReport.skipped(self.name, NOT_CDA_REASON)
        req = ctx.request
        doc = ctx.header()
        kind = ctx.kind or ctx.kinds().get(req.kind)
        findings: list[Finding] = []
        findings += self._document_id(ctx, doc, req)
        findings += self._patient(ctx, doc, req)
        findings += self._patient_rules(req, kind)
        findings += self._organization(ctx, doc, req)
        findings += self._creation_time(ctx, doc, req)
        findings += self._doctors(doc, req)
        version_findings, version_details = self._versions(ctx, req)
        findings += version_findings
        if kind is not None and kind.series_required and not req.series.strip():
            findings.append(
                Finding("SERIES_REQUIRED", errors.message("SERIES_REQUIRED", kind=kind.id), rule="C-series")
            )
        return LayerReport(self.name, True, not findings, findings, details=version_details)

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _at(ctx: DocumentContext, *names: str) -> tuple[str, int | None]:
        el = child(ctx.root, *names)
        if el is None:
            return "", None
        return node_path(el), el.sourceline

    def _finding(
        self, ctx: DocumentContext, rule: str, message: str, *where: str, code: str = "VALIDATION_ERROR"
    ) -> Finding:
        path, line = self._at(ctx, *where) if where else ("", None)
        return Finding(code, message, rule=rule, path=path, line=line)

    # -- checks ------------------------------------------------------------------------------------
    def _document_id(self, ctx: DocumentContext, doc: CdaHeader, req: RegisterRequest) -> list[Finding]:
        doc_uid, req_uid = doc.id_extension, req.local_uid.strip()
        if not req_uid or doc_uid.casefold() == req_uid.casefold():
            return []
        text = finding_text("cross.local_uid", document=doc_uid, request=req_uid)
        return [self._finding(ctx, "C-localUid", text, "id")]

    def _patient(self, ctx: DocumentContext, doc: CdaHeader, req: RegisterRequest) -> list[Finding]:
        out: list[Finding] = []
        req_snils = req.effective_patient_snils
        doc_snils = snils_digits(doc.patient_snils)
        if req_snils and doc_snils != req_snils:
            text = finding_text("cross.patient_snils", document=doc_snils, request=req_snils)
            out.append(self._finding(ctx, "C-patient-snils", text, "recordTarget", "patientRole"))
        patient = req.patient
        if patient is None:
            return out
        where = ("recordTarget", "patientRole", "patient")
        name = doc.patient_name
        for rule, key, doc_value, req_value in (
            ("C-patient-family", "cross.patient_family", name.family, patient.surname),
            ("C-patient-given", "cross.patient_given", name.given, patient.name),
            ("C-patient-patronymic", "cross.patient_patronymic", name.patronymic, patient.patronymic),
        ):
            if req_value.strip() and not same_name(doc_value, req_value):
                text = finding_text(key, document=doc_value, request=req_value.strip())
                out.append(self._finding(ctx, rule, text, *where, "name"))
        if patient.birth_date.strip():
            doc_birth = parse_ts(doc.birth_time_raw)
            req_birth = parse_xs_date(patient.birth_date)
            if (
                doc_birth is None
                or doc_birth.date is None
                or req_birth is None
                or doc_birth.date != req_birth
            ):
                text = finding_text(
                    "cross.patient_birth_date", document=doc.birth_time_raw, request=patient.birth_date.strip()
                )
                out.append(self._finding(ctx, "C-patient-birthDate", text, *where, "birthTime"))
        if patient.gender.strip() and doc.gender_code != patient.gender.strip():
            text = finding_text("cross.patient_gender", document=doc.gender_code, request=patient.gender.strip())
            out.append(self._finding(ctx, "C-patient-gender", text, *where, "administrativeGenderCode"))
        return out

    @staticmethod
    def _patient_rules(req: RegisterRequest, kind: Kind | None) -> list[Finding]:
        """NSI 1520 ``PATIENT_INFO``: whether patient info (and its SNILS) must be in the request."""
        if kind is None:
            return []
        has_patient = req.patient is not None or bool(req.patient_snils.strip())
        if kind.requires_patient and not has_patient:
            return [
                Finding(
                    "PATIENT_OCCURRENCE_MISMATCH",
                    errors.message("PATIENT_OCCURRENCE_MISMATCH", kind=kind.id),
                    rule="C-patient-occurrence",
                )
            ]
        if kind.requires_patient_snils and not req.effective_patient_snils:
            return [Finding("NO_SNILS", errors.message("NO_SNILS"), rule="C-no-snils")]
        return []

    def _organization(self, ctx: DocumentContext, doc: CdaHeader, req: RegisterRequest) -> list[Finding]:
        out: list[Finding] = []
        org = req.organization.strip()
        custodian = doc.custodian_oid
        where = ("custodian", "assignedCustodian", "representedCustodianOrganization", "id")
        if org and custodian != org:
            text = finding_text("cross.organization", document=custodian, request=org)
            out.append(self._finding(ctx, "C-organization", text, *where))
        department = req.department.strip()
        if department and org and not department.startswith(org + "."):
            text = finding_text("cross.department", department=department, organization=org)
            out.append(self._finding(ctx, "C-department", text))
        return out

    def _creation_time(self, ctx: DocumentContext, doc: CdaHeader, req: RegisterRequest) -> list[Finding]:
        req_raw = req.creation_date_time.strip()
        requested = parse_xs_datetime(req_raw)
        if requested is None:
            return []  # a malformed creationDateTime is the synchronous leg's to report
        document = doc.effective_time
        if document is not None and same_creation_time(document, requested):
            return []
        text = finding_text("cross.creation_date", document=doc.effective_time_raw, request=req_raw)
        return [self._finding(ctx, "C-creationDateTime", text, "effectiveTime")]

    def _versions(self, ctx: DocumentContext, req: RegisterRequest) -> tuple[list[Finding], dict]:
        """``associations`` of the request against ``relatedDocument``/``setId``/``versionNumber``.

        Contradictions are always reported (a replaced version with another ``setId``, a number not
        below the document's, a parent other than the request's previous version); a link on one
        side only is reported in strict mode (``versions_strict``), the federal rule being unknown.
        """
        identity = ctx.scratch["identity"] = read_identity(ctx.root, ctx.child_index())
        if identity is None:
            return [], {}
        options = ctx.settings.options.get("lifecycle") or {}
        strict = bool(options.get("strict"))
        version_types = {str(v).upper() for v in options.get("version_types") or ("RPLC",)}
        details = {"set_id": identity.set_id, "version_number": identity.version_number,
                   "related_documents": [{"type_code": p.type_code, "ids": [*p.local_ids, *p.emdr_ids],
                                          "set_id": p.set_id, "version_number": p.version_number}
                                         for p in identity.parents]}
        out: list[Finding] = []
        number = identity.version_number
        replaced = [p for p in identity.parents if p.type_code == "RPLC"]
        for parent in replaced:
            if parent.set_id and identity.set_id and parent.set_id != identity.set_id:
                out.append(self._finding(
                    ctx, "C-version-setId",
                    finding_text("cross.version_set_id", parent=parent.set_id, document=identity.set_id),
                    "relatedDocument", "parentDocument", "setId"))
            if parent.version_number is not None and number is not None and parent.version_number >= number:
                out.append(self._finding(
                    ctx, "C-version-number",
                    finding_text("cross.version_number", number=number, parent=parent.version_number),
                    "versionNumber"))
        declared = [a for a in req.associations if a.type.strip().upper() in version_types and a.target.strip()]
        if replaced and declared and not any(p.names(a.target) for p in replaced for a in declared):
            parent_ids = ", ".join(i for p in replaced for i in (*p.local_ids, *p.emdr_ids))
            targets = ", ".join(a.target.strip() for a in declared)
            out.append(self._finding(
                ctx, "C-version-parent", finding_text("cross.version_parent", document=parent_ids, request=targets),
                "relatedDocument", "parentDocument"))
        if strict:
            if replaced and not req.associations:
                out.append(self._finding(
                    ctx, "C-version-association",
                    finding_text("cross.version_association"), "relatedDocument"))
            if declared and not replaced:
                out.append(self._finding(
                    ctx, "C-version-related",
                    finding_text("cross.version_related", target=declared[0].target.strip())))
            if declared and number == 1:
                out.append(self._finding(
                    ctx, "C-version-first",
                    finding_text("cross.version_first"), "versionNumber"))
        return out, details

    def _doctors(self, doc: CdaHeader, req: RegisterRequest) -> list[Finding]:
        people = doc.people()
        by_snils: dict[str, list[DocPerson]] = {}
        for person in people:
            if person.snils:
                by_snils.setdefault(snils_digits(person.snils), []).append(person)
        out: list[Finding] = []
        signer_snils: set[str] = set()
        for sign in req.personal_signs:
            out += self._doctor(sign.doctor, by_snils, signer_snils)
        legal = next((p for p in people if p.role == "legalAuthenticator"), None)  # doc.legal_authenticator
        if legal is not None and legal.snils and snils_digits(legal.snils) not in signer_snils:
            out.append(
                Finding(
                    "LEGAL_AUTHENTICATOR_NOT_FOUND",
                    errors.message("LEGAL_AUTHENTICATOR_NOT_FOUND", snils=snils_digits(legal.snils)),
                    rule="C-legalAuthenticator",
                    path=node_path(legal.element),
                    line=legal.element.sourceline,
                )
            )
        return out

    @staticmethod
    def _doctor(doctor: Doctor, by_snils: dict[str, list[DocPerson]], seen: set[str]) -> list[Finding]:
        """One ``personalSign/doctor``: found in the document by SNILS, with the same name and local id."""
        person = doctor.person
        digits = snils_digits(person.snils)
        if not digits:
            label = (
                " ".join(p for p in (person.surname, person.name, person.patronymic) if p) or person.local_id
            )
            return [
                Finding(
                    "INVALID_DOCTOR_SNILS",
                    errors.message("INVALID_DOCTOR_SNILS", snils=label),
                    rule="C-doctor",
                )
            ]
        seen.add(digits)
        matches = by_snils.get(digits)
        if not matches:
            return [
                Finding(
                    "INVALID_DOCTOR_INFO",
                    errors.message("INVALID_DOCTOR_INFO", snils=digits),
                    rule="C-doctor",
                )
            ]
        found = matches[0]

        def where() -> dict:  # found only when there is something to report
            return {"path": node_path(found.element), "line": found.element.sourceline}

        out: list[Finding] = []
        for code, req_value, doc_value in (
            ("INVALID_DOCTOR_FAMILY", person.surname, found.name.family),
            ("INVALID_DOCTOR_NAME", person.name, found.name.given),
            ("INVALID_DOCTOR_PATRONYMIC", person.patronymic, found.name.patronymic),
        ):
            if req_value.strip() and not same_name(req_value, doc_value):
                text = errors.message(code, request=req_value.strip(), document=doc_value, snils=digits)
                out.append(Finding(code, text, rule="C-doctor", **where()))
        local_ids = {p.local_id for p in matches if p.local_id}
        if person.local_id.strip() and local_ids and person.local_id.strip() not in local_ids:
            text = errors.message(
                "INVALID_DOCTOR_ID", request=person.local_id.strip(), document=found.local_id, snils=digits
            )
            out.append(Finding("INVALID_DOCTOR_ID", text, rule="C-doctor", **where()))
        return out
