"""The СЭМД generator: valid documents pass the official packs for many seeds; request and
document agree; every ``--invalid`` rule is caught by the layer it names and by nothing unexpected.

The official XSD and Schematron packs are run through the project's ``xsd`` and ``schematron`` layers
(:class:`~mock_remd.validation.pipeline.Validator` with ``packs_dir`` = ``../shared/packs``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from mock_remd.domain.model import snils_digits
from mock_remd.generator import RULES, SUPPORTED_KINDS, UnsupportedKindError, generate
from mock_remd.generator.faker import snils_is_valid
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pipeline import Validator

SEEDS = range(50)
NS = {"v3": "urn:hl7-org:v3", "identity": "urn:hl7-ru:identity"}
TEMPLATES = {
    "119": ("1.2.643.5.1.13.2.7.5.1.5.9.4", "5", None),
    "174": ("1.2.643.5.1.13.13.14.6.9.4", "6", None),
    "186": ("1.2.643.5.1.13.13.14.7.9.5", "7", None),
    "204": ("1.2.643.5.1.13.13.15.105.1", "105", "204"),
}


@pytest.fixture(scope="module")
def validator(packs_dir: Path, nsi_export_dir: Path) -> Validator:
    return Validator(ValidationSettings(packs_dir=packs_dir, nsi_dir=nsi_export_dir))


@pytest.fixture(scope="module")
def pack_validator(packs_dir: Path) -> Validator:
    """Only the official-pack layers (what "passes its official pack" means)."""
    return Validator(ValidationSettings(layers=frozenset({"xml", "kind", "xsd", "schematron"}), packs_dir=packs_dir))


def _errors(report) -> list[tuple[str, str, str]]:
    return [(f.layer, f.code, f.message) for f in report.errors]


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_valid_documents_pass_the_official_pack_for_many_seeds(kind: str, pack_validator: Validator) -> None:
    for seed in SEEDS:
        doc = generate(kind, seed, signer=None)
        report = pack_validator.validate(doc.content, doc.request)
        assert report.valid, (kind, seed, _errors(report))
        for name in ("xsd", "schematron"):
            layer = report.layer(name)
            assert layer is not None and layer.ran, f"{name} layer did not run: {layer and layer.reason}"


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_signed_documents_pass_every_layer(kind: str, validator: Validator) -> None:
    for seed in range(3):
        doc = generate(kind, seed)
        report = validator.validate(doc.content, doc.request)
        assert report.valid, (kind, seed, _errors(report))
        ran = {lr.name for lr in report.layers if lr.ran}
        assert {"xml", "xsd", "cross"} <= ran


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_kind_identity_in_the_header(kind: str) -> None:
    root = etree.fromstring(generate(kind, 1, signer=None).content)
    template, code, translation = TEMPLATES[kind]
    assert [t.get("root") for t in root.findall("v3:templateId", NS)] == [template]
    assert root.find("v3:code", NS).get("code") == code
    tr = root.find("v3:code/v3:translation", NS)
    if translation is None:
        assert tr is None
    else:
        assert (tr.get("code"), tr.get("codeSystem")) == (translation, "1.2.643.5.1.13.13.11.1520")
        assert root.find("v3:code", NS).get("codeSystem") == "1.2.643.5.1.13.13.99.2.1079"


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_request_agrees_with_document(kind: str) -> None:
    for seed in range(10):
        doc = generate(kind, seed, signer=None)
        root = etree.fromstring(doc.content)
        req = doc.request
        assert root.find("v3:id", NS).get("extension") == req.local_uid
        assert len(req.local_uid) == 36 and req.local_uid.count("-") == 4
        created = dt.datetime.fromisoformat(req.creation_date_time)
        assert created.utcoffset() == dt.timedelta(hours=3)
        assert root.find("v3:effectiveTime", NS).get("value") == created.strftime("%Y%m%d%H%M+0300")
        role = root.find("v3:recordTarget/v3:patientRole", NS)
        assert snils_digits(role.find("v3:id[@root='1.2.643.100.3']", NS).get("extension")) == req.patient.snils
        assert snils_is_valid(req.patient.snils)
        name = role.find("v3:patient/v3:name", NS)
        assert name.findtext("v3:family", namespaces=NS) == req.patient.surname
        assert name.findtext("v3:given", namespaces=NS) == req.patient.name
        assert name.findtext("identity:Patronymic", namespaces=NS) == req.patient.patronymic
        birth = role.find("v3:patient/v3:birthTime", NS).get("value")
        assert birth == req.patient.birth_date.replace("-", "")
        assert role.find("v3:patient/v3:administrativeGenderCode", NS).get("code") == req.patient.gender
        assert req.organization == "1.2.643.5.1.13.13.12.2.50.99999"
        assert root.find("v3:custodian//v3:representedCustodianOrganization/v3:id", NS).get("root") == req.organization
        signer = req.personal_signs[0].doctor
        for path in ("v3:author/v3:assignedAuthor", "v3:legalAuthenticator/v3:assignedEntity"):
            entity = root.find(path, NS)
            assert entity.find("v3:id[@root='1.2.643.100.3']", NS).get("extension") == signer.person.snils
            assert entity.findtext("v3:assignedPerson/v3:name/v3:family", namespaces=NS) == signer.person.surname
            assert entity.find("v3:code", NS).get("code") == signer.position
        assert req.client_entity_id == "00000000-0000-4000-8000-000000000001" and req.system == "demo"
        assert req.document is not None and req.document.checksum


def test_gender_is_consistent_across_name_parts() -> None:
    seen = set()
    for seed in range(40):
        p = generate("119", seed, signer=None).request.patient
        seen.add(p.gender)
        if p.gender == "1":
            assert p.patronymic.endswith("ич"), p
        else:
            assert p.patronymic.endswith("на"), p
    assert seen == {"1", "2"}


def test_same_seed_gives_identical_document_and_request() -> None:
    a, b = generate("186", 11, signer=None), generate("186", 11, signer=None)
    assert a.content == b.content
    assert a.envelope() == b.envelope()
    assert generate("186", 12, signer=None).content != a.content


def test_organization_can_be_overridden() -> None:
    oid = "1.2.643.5.1.13.13.12.2.77.1234"
    doc = generate("174", 2, organization=oid, signer=None)
    root = etree.fromstring(doc.content)
    assert doc.request.organization == oid
    assert root.find("v3:id", NS).get("root").startswith(oid + ".100.")
    assert root.find("v3:recordTarget/v3:patientRole/v3:providerOrganization/v3:id", NS).get("root") == oid


def test_signatures_are_made_per_doctor_and_for_the_organisation() -> None:
    doc = generate("204", 4)
    assert all(ps.signature is not None and ps.signature.data_b64 for ps in doc.request.personal_signs)
    assert doc.request.org_signature is not None and doc.request.org_signature.checksum


def test_unknown_kind_and_rule_are_refused() -> None:
    with pytest.raises(UnsupportedKindError, match="119, 174, 186, 204"):
        generate("999", 0)
    with pytest.raises(KeyError, match="unknown invalid rule"):
        generate("119", 0, invalid="no-such-rule")


_SIGNATURE_LAYERS = {"signatures"}


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
@pytest.mark.parametrize("name", list(RULES))
def test_invalid_rule_is_caught_by_its_layer_only(kind: str, name: str, validator: Validator) -> None:
    rule = RULES[name]
    if not rule.applies_to(kind):
        pytest.skip(f"{name} applies to kinds {rule.kinds} only")
    signed = rule.layer in _SIGNATURE_LAYERS or bool(_SIGNATURE_LAYERS & set(rule.also))
    doc = generate(kind, 7, invalid=name, **({} if signed else {"signer": None}))
    report = validator.validate(doc.content, doc.request)
    found = {(f.layer, f.code) for f in report.errors}
    if not signed:
        found = {(layer, code) for layer, code in found if layer != "signatures"}
    allowed = {rule.layer, *rule.also}
    unexpected = {(layer, code) for layer, code in found if layer not in allowed}
    assert not unexpected, (name, kind, _errors(report))
    assert (rule.layer, rule.code) in found, (name, kind, _errors(report))
