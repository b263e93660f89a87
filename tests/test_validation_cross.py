"""Layer ``cross``: the registerDocument request against the document."""

from __future__ import annotations

import pytest
from _cda_testing import EXAMPLE_UID, OTHER_SNILS, context, matching_request, one, parse
from lxml import etree

from mock_remd.catalog.kinds import default_registry
from mock_remd.domain.model import Doctor, Patient, Person, PersonalSign
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.layers.cross_layer import CrossLayer
from mock_remd.validation.pipeline import Validator

LAYER = CrossLayer(ValidationSettings())


@pytest.fixture
def doc(valid_119_bytes: bytes) -> etree._Element:
    return parse(valid_119_bytes)


@pytest.fixture
def req():
    return matching_request()


def run(root, request, kind=None):
    ctx = context(root, request=request)
    ctx.kind = default_registry().get(kind or request.kind)  # what the kind layer would have set
    return LAYER.run(ctx)


def only(report):
    assert len(report.findings) == 1, [f.message for f in report.findings]
    return report.findings[0]


def test_matching_request_passes(doc, req):
    report = run(doc, req)
    assert report.ran and report.passed and report.findings == []


def test_valid_example_passes_every_layer_with_a_request(valid_119_bytes, req):
    settings = ValidationSettings(layers=frozenset({"xml", "kind", "header", "cross"}))
    report = Validator(settings).validate(valid_119_bytes, request=req)
    assert report.valid, [e.message for e in report.errors]
    assert [lr.name for lr in report.layers if lr.ran] == ["xml", "kind", "header", "cross"]


def test_skipped_without_request(doc):
    report = LAYER.run(context(doc))
    assert not report.ran and report.passed
    assert report.reason == "нет запроса registerDocument для сверки"


def test_local_uid_mismatch(doc, req):
    req.local_uid = "def"
    finding = only(run(doc, req))
    assert finding.code == "VALIDATION_ERROR"
    assert finding.message == (
        f"Уникальный идентификатор документа в ЭМД [{EXAMPLE_UID}] отличается от уникального идентификатора "
        "документа в запросе на регистрацию сведений [def]"
    )
    assert finding.path == "/ClinicalDocument[1]/id[1]" and finding.line == 7


def test_local_uid_as_uuid_in_document(doc, req):
    uid = "F368A14E-31A7-422C-99A1-8043239019DE"
    one(doc, "/hl7:ClinicalDocument/hl7:id").set("extension", uid)
    req.local_uid = uid.lower()
    assert run(doc, req).findings == []


def test_patient_snils_mismatch(doc, req):
    req.patient.snils = OTHER_SNILS[0]
    finding = only(run(doc, req))
    assert finding.message == (
        f"СНИЛС пациента в ЭМД [11223344595] отличается от СНИЛС пациента в запросе на регистрацию сведений "
        f"[{OTHER_SNILS[0]}]"
    )


def test_patient_snils_legacy_flat_field(doc, req):
    req.patient.snils = ""
    req.patient_snils = "112 233 445 95"
    assert run(doc, req).findings == []
    req.patient_snils = OTHER_SNILS[1]
    assert "СНИЛС пациента" in only(run(doc, req)).message


@pytest.mark.parametrize(
    ("field", "value", "rule", "expected"),
    [
        ("surname", "Смирнов", "C-patient-family", "Фамилия пациента в ЭМД [Смирнова]"),
        ("name", "Алёна", "C-patient-given", "Имя пациента в ЭМД [Елена]"),
        ("patronymic", "Викторович", "C-patient-patronymic", "Отчество пациента в ЭМД [Викторовна]"),
    ],
)
def test_patient_name_mismatch(doc, req, field, value, rule, expected):
    setattr(req.patient, field, value)
    finding = only(run(doc, req))
    assert finding.rule == rule and finding.message.startswith(expected)
    assert finding.path == "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]/patient[1]/name[1]"


def test_patient_names_compare_ignoring_case_and_yo(doc, req):
    req.patient.surname = "СМИРНОВА"
    one(doc, "//hl7:patient/hl7:name/hl7:given").text = "Алёна"
    req.patient.name = "алена"
    assert run(doc, req).findings == []


def test_patient_birth_date_mismatch(doc, req):
    req.patient.birth_date = "1979-03-22"
    finding = only(run(doc, req))
    assert finding.message == (
        "Дата рождения пациента в ЭМД [19790412] отличается от даты рождения пациента в запросе "
        "на регистрацию сведений [1979-03-22]"
    )


def test_patient_gender_mismatch(doc, req):
    req.patient.gender = "1"
    assert only(run(doc, req)).rule == "C-patient-gender"


def test_organization_mismatch(doc, req):
    req.organization = "1.2.643.5.1.13.13.12.2.50.11111"
    req.department = ""
    finding = only(run(doc, req))
    assert finding.rule == "C-organization"
    assert "[1.2.643.5.1.13.13.12.2.50.99999]" in finding.message


def test_department_outside_organization(doc, req):
    req.department = "1.2.643.5.1.13.13.12.2.50.11111.0.1"
    assert only(run(doc, req)).rule == "C-department"


@pytest.mark.parametrize(
    "created",
    [
        "2024-03-15T11:30:00+03:00",
        "2024-03-15T08:30:00Z",  # same instant in another zone
        "2024-03-15T11:30:45.120+03:00",  # the document is written to the minute
    ],
)
def test_creation_time_same_instant(doc, req, created):
    req.creation_date_time = created
    assert run(doc, req).findings == []


def test_creation_time_mismatch(doc, req):
    req.creation_date_time = "2024-03-15T11:31:00+03:00"
    finding = only(run(doc, req))
    assert finding.message == (
        "Дата создания документа в ЭМД [202403151130+0300] отличается от даты создания документа в запросе "
        "на регистрацию сведений [2024-03-15T11:31:00+03:00]"
    )
    assert finding.path == "/ClinicalDocument[1]/effectiveTime[1]"


def test_creation_time_by_date_when_the_document_has_no_time(doc, req):
    one(doc, "/hl7:ClinicalDocument/hl7:effectiveTime").set("value", "20240315")
    req.creation_date_time = "2024-03-15T23:59:00+03:00"
    assert run(doc, req).findings == []
    req.creation_date_time = "2024-03-16T00:10:00+03:00"
    assert only(run(doc, req)).rule == "C-creationDateTime"


def test_creation_time_by_date_when_the_request_has_no_zone(doc, req):
    req.creation_date_time = "2024-03-15T18:00:00"
    assert run(doc, req).findings == []


@pytest.mark.parametrize(
    ("field", "value", "code", "message"),
    [
        (
            "surname",
            "Кузнецова",
            "INVALID_DOCTOR_FAMILY",
            "Фамилия [Кузнецова] медицинского работника в запросе на регистрацию отличается от фамилии "
            "[Кузнецов] в СЭМД. СНИЛС [14848125585]",
        ),
        (
            "name",
            "Иван",
            "INVALID_DOCTOR_NAME",
            "Имя [Иван] медицинского работника в запросе на регистрацию отличается от имени [Андрей] в СЭМД. "
            "СНИЛС [14848125585]",
        ),
        (
            "patronymic",
            "Павлович",
            "INVALID_DOCTOR_PATRONYMIC",
            "Отчество [Павлович] медицинского работника в запросе на регистрацию отличается от отчества "
            "[Петрович] в СЭМД. СНИЛС [14848125585]",
        ),
    ],
)
def test_doctor_name_mismatch(doc, req, field, value, code, message):
    setattr(req.personal_signs[0].doctor.person, field, value)
    finding = only(run(doc, req))
    assert finding.code == code and finding.message == message


def test_doctor_local_id_mismatch(doc, req):
    req.personal_signs[0].doctor.person.local_id = "DOC-9999"
    finding = only(run(doc, req))
    assert finding.code == "INVALID_DOCTOR_ID"
    assert "[DOC-9999]" in finding.message and "[DOC-0734]" in finding.message


def test_doctor_not_in_document(doc, req):
    stranger = PersonalSign(
        doctor=Doctor(
            person=Person(snils=OTHER_SNILS[1], surname="Иванов", name="Иван", patronymic="Иванович")
        )
    )
    req.personal_signs.append(stranger)
    finding = only(run(doc, req))
    assert finding.code == "INVALID_DOCTOR_INFO"
    assert finding.message == (
        f"Медицинский работник [{OTHER_SNILS[1]}] из запроса на регистрацию сведений не найден в СЭМД"
    )


def test_doctor_without_snils(doc, req):
    req.personal_signs.append(PersonalSign(doctor=Doctor(person=Person(surname="Иванов", name="Иван"))))
    finding = only(run(doc, req))
    assert finding.code == "INVALID_DOCTOR_SNILS" and "Иванов" in finding.message


def test_legal_authenticator_not_among_signers(doc, req):
    one(doc, "//hl7:legalAuthenticator/hl7:assignedEntity/hl7:id[2]").set("extension", OTHER_SNILS[2])
    finding = only(run(doc, req))
    assert finding.code == "LEGAL_AUTHENTICATOR_NOT_FOUND"
    assert finding.message == (
        f"Медицинский работник [{OTHER_SNILS[2]}], придавший документу юридическую силу, не найден в запросе "
        "на регистрацию сведений"
    )
    assert finding.path == "/ClinicalDocument[1]/legalAuthenticator[1]/assignedEntity[1]"


def test_no_snils_for_a_kind_that_requires_it(doc, req):
    req.patient.snils = ""
    finding = only(run(doc, req))
    assert finding.code == "NO_SNILS"
    assert (
        finding.message
        == "СНИЛС пациента в составе сведений о пациенте обязателен для данного вида документов"
    )


def test_patient_missing_for_a_kind_that_requires_it(doc, req):
    req.patient = None
    finding = only(run(doc, req))
    assert finding.code == "PATIENT_OCCURRENCE_MISMATCH" and "[119]" in finding.message


def test_patient_optional_kind(doc, req):
    req.patient = None
    req.series = "45 АА"
    assert run(doc, req, kind="125").findings == []  # 125: patient info "Не обязательны"


def test_series_required(doc, req):
    req.series = ""
    finding = only(run(doc, req, kind="125"))
    assert finding.code == "SERIES_REQUIRED" and "[125]" in finding.message


def test_patient_without_snils_in_optional_kind(doc, req):
    req.patient = Patient(surname="Смирнова", name="Елена", patronymic="Викторовна")
    req.series = "1"
    assert run(doc, req, kind="125").findings == []
