"""Layer ``header``: the shared header rules on the example documents and on mutated copies."""

from __future__ import annotations

import pytest
from _cda_testing import NS, OTHER_SNILS, context, one, parse, remove, resolve_path
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.layers.header_layer import HeaderLayer
from mock_remd.validation.pipeline import Validator

LAYER = HeaderLayer(ValidationSettings())
EXAMPLE_OTHER_ORG = "1.2.643.5.1.13.13.12.2.50.11111"


def run(root: etree._Element):
    return LAYER.run(context(root, kind="119"))  # the examples are kind 119 (as a request would say)


def rules(report) -> set[str]:
    return {f.rule for f in report.findings}


@pytest.fixture
def doc(valid_119_bytes: bytes) -> etree._Element:
    return parse(valid_119_bytes)


def test_valid_example_passes(doc):
    report = run(doc)
    assert report.ran and report.passed, [f.message for f in report.findings]
    assert report.findings == []


def test_invalid_schematron_example_fails_in_header(examples_dir):
    root = parse((examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    report = run(root)
    assert not report.passed
    assert {
        "H-id",
        "H-effectiveTime",
        "H-confidentialityCode",
        "H-patient-snils",
        "H-author",
        "H-informationRecipient",
    } <= rules(report)
    assert all(f.code == "VALIDATION_ERROR" for f in report.findings)


def test_pipeline_reports_header_findings(examples_dir):
    content = (examples_dir / "consultation-119-invalid-schematron.xml").read_bytes()
    report = Validator(ValidationSettings(layers=frozenset({"xml", "header"}))).validate(content)
    assert not report.valid
    assert report.layer("header").ran and not report.layer("header").passed


def test_finding_shape_message_path_and_line(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:realmCode").set("code", "US")
    (finding,) = run(doc).findings
    assert finding.rule == "H-realmCode"
    assert finding.path == "/ClinicalDocument[1]/realmCode[1]"
    assert finding.line == 4
    assert finding.message == (
        "Ошибка валидации СЭМД: Элемент ClinicalDocument/realmCode должен иметь значение атрибута @code "
        "равное 'RU'. Путь: /ClinicalDocument[1]/realmCode[1]"
    )


def test_every_path_resolves_to_an_element(examples_dir):
    root = parse((examples_dir / "consultation-119-invalid-schematron.xml").read_bytes())
    for f in run(root).findings:
        assert f.message.startswith("Ошибка валидации СЭМД: ")
        assert f.message.endswith(f". Путь: {f.path}")
        assert resolve_path(root, f.path).sourceline == f.line


def test_type_id_legacy_extension(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:typeId").set("extension", "POCD_HD000040")
    assert rules(run(doc)) == {"H-typeId"}


def test_exactly_one_template_id(doc):
    template = one(doc, "/hl7:ClinicalDocument/hl7:templateId")
    template.addnext(
        etree.fromstring('<templateId xmlns="urn:hl7-org:v3" root="1.2.643.5.1.13.13.14.7.9.5"/>')
    )
    (finding,) = run(doc).findings
    assert finding.rule == "H-templateId"
    assert "должен иметь 1 элемент templateId" in finding.message
    assert finding.path == "/ClinicalDocument[1]"


def test_id_and_set_id_roots(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:setId").set("root", "1.2.643.5.1.13.13.12.2.50.99999.100.1.1.51")
    findings = run(doc).findings
    assert {f.rule for f in findings} == {"H-setId"}
    assert any("должны различаться" in f.message for f in findings)
    assert any(".50" in f.message for f in findings)


def test_id_root_needs_only_the_suffix(doc):
    # the 2023+ packs accept any OID ending in .51; the ".100." part is left to the kind's own pack
    one(doc, "/hl7:ClinicalDocument/hl7:id").set("root", "1.2.643.5.1.13.13.12.2.50.99999.51")
    assert run(doc).findings == []


def test_id_extension_required(doc):
    del one(doc, "/hl7:ClinicalDocument/hl7:id").attrib["extension"]
    (finding,) = run(doc).findings
    assert finding.rule == "H-id" and "@extension" in finding.message


@pytest.mark.parametrize("value", ["20240315", "202403151130+0300", "20240315113045+0300"])
def test_effective_time_shapes_accepted(doc, value):
    # seconds are an edition-specific ban, not a shared rule
    one(doc, "/hl7:ClinicalDocument/hl7:effectiveTime").set("value", value)
    assert run(doc).findings == []


@pytest.mark.parametrize(
    "value", ["202403151130", "2024-03-15", "202403", "202403151130-0300", "202403151130+0305"]
)
def test_effective_time_shapes_rejected(doc, value):
    one(doc, "/hl7:ClinicalDocument/hl7:effectiveTime").set("value", value)
    assert rules(run(doc)) == {"H-effectiveTime"}


def test_effective_time_null_flavor_only_na(doc):
    eff = one(doc, "/hl7:ClinicalDocument/hl7:effectiveTime")
    del eff.attrib["value"]
    eff.set("nullFlavor", "NA")
    assert run(doc).findings == []
    eff.set("nullFlavor", "UNK")
    assert rules(run(doc)) == {"H-effectiveTime"}


def test_confidentiality_code_needs_all_attributes(doc):
    del one(doc, "/hl7:ClinicalDocument/hl7:confidentialityCode").attrib["displayName"]
    (finding,) = run(doc).findings
    assert finding.rule == "H-confidentialityCode" and "@displayName" in finding.message


def test_language_and_version(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:languageCode").set("code", "en-US")
    one(doc, "/hl7:ClinicalDocument/hl7:versionNumber").set("value", "")
    assert rules(run(doc)) == {"H-languageCode", "H-versionNumber"}


def test_document_code_system(doc):
    one(doc, "/hl7:ClinicalDocument/hl7:code").set("codeSystem", "2.16.840.1.113883.6.1")
    assert rules(run(doc)) == {"H-code"}


def test_structured_body_required(doc):
    remove(doc, "/hl7:ClinicalDocument/hl7:component")
    assert rules(run(doc)) == {"H-structuredBody"}


def test_patient_snils_checksum(doc):
    one(doc, "//hl7:patientRole/hl7:id[2]").set("extension", "11223344596")
    (finding,) = run(doc).findings
    assert finding.rule == "H-patient-snils"
    assert "контрольным числом" in finding.message and "[11223344596]" in finding.message


@pytest.mark.parametrize("value", ["112-233-445 95", "112 233 445 95", OTHER_SNILS[0]])
def test_patient_snils_accepted_forms(doc, value):
    one(doc, "//hl7:patientRole/hl7:id[2]").set("extension", value)
    assert run(doc).findings == []


def test_patient_snils_null_flavor_tolerated_by_shared_rules(doc):
    snils_id = one(doc, "//hl7:patientRole/hl7:id[2]")
    snils_id.attrib.clear()
    snils_id.set("nullFlavor", "NI")
    assert run(doc).findings == []


def test_patient_role_needs_two_ids(doc):
    remove(doc, "//hl7:patientRole/hl7:id[2]")
    (finding,) = run(doc).findings
    assert finding.rule == "H-recordTarget" and "2 элемента id" in finding.message


def test_identity_document_parts(doc):
    remove(doc, "//hl7:patientRole/identity:IdentityDoc/identity:Number")
    one(doc, "//identity:IdentityDoc/identity:IdentityCardType").set("codeSystem", "1.2.3")
    assert rules(run(doc)) == {"H-identityDoc"}
    assert len(run(doc).findings) == 2


def test_insurance_policy(doc):
    remove(doc, "//hl7:patientRole/identity:InsurancePolicy/identity:Number")
    assert rules(run(doc)) == {"H-insurancePolicy"}
    policy = one(doc, "//hl7:patientRole/identity:InsurancePolicy")
    for c in list(policy):
        policy.remove(c)
    policy.set("nullFlavor", "NI")
    assert run(doc).findings == []


def test_patient_address(doc):
    one(doc, "//hl7:patientRole/hl7:addr/hl7:postalCode").text = "14140"
    remove(doc, "//hl7:patientRole/hl7:addr/fias:Address")
    findings = run(doc).findings
    assert {f.rule for f in findings} == {"H-addr"}
    assert {f.path for f in findings} == {
        "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]/addr[1]/postalCode[1]",
        "/ClinicalDocument[1]/recordTarget[1]/patientRole[1]/addr[1]",
    }


def test_at_most_two_patient_addresses(doc):
    addr = one(doc, "//hl7:patientRole/hl7:addr")
    for _ in range(2):
        addr.addnext(etree.fromstring(etree.tostring(addr)))
    assert rules(run(doc)) == {"H-addr"}


def test_patient_gender_and_birth_time(doc):
    one(doc, "//hl7:patient/hl7:administrativeGenderCode").set("codeSystem", "2.16.840.1.113883.5.1")
    one(doc, "//hl7:patient/hl7:birthTime").set("value", "12.04.1979")
    findings = run(doc).findings
    assert {f.rule for f in findings} == {"H-patient"}
    assert len(findings) == 2


def test_patient_name_parts(doc):
    one(doc, "//hl7:patient/hl7:name/hl7:given").text = " "
    (finding,) = run(doc).findings
    assert finding.rule == "H-patient" and "given" in finding.message


def test_provider_organization_license_id(doc):
    one(doc, "//hl7:providerOrganization/hl7:id[2]").set("root", "1.2.3.4")
    assert rules(run(doc)) == {"H-providerOrganization"}


def test_author_ids_and_time(doc):
    one(doc, "//hl7:author/hl7:assignedAuthor/hl7:id[1]").set(
        "root", "1.2.643.5.1.13.13.12.2.50.99999.100.1.1.10"
    )
    assert rules(run(doc)) == {"H-author"}
    remove(doc, "//hl7:author/hl7:assignedAuthor/hl7:id[2]")
    assert any("2 элемента id" in f.message for f in run(doc).findings)


def test_author_snils_checksum(doc):
    one(doc, "//hl7:author/hl7:assignedAuthor/hl7:id[2]").set("extension", "14848125586")
    assert rules(run(doc)) == {"H-author"}


def test_only_one_author(doc):
    author = one(doc, "/hl7:ClinicalDocument/hl7:author")
    author.addnext(etree.fromstring(etree.tostring(author)))
    assert rules(run(doc)) == {"H-author"}


def test_custodian_needs_address(doc):
    remove(doc, "//hl7:representedCustodianOrganization/hl7:addr")
    (finding,) = run(doc).findings
    assert finding.rule == "H-custodian" and "1 элемент addr" in finding.message


def test_information_recipient_minzdrav(doc):
    recipient = one(doc, "/hl7:ClinicalDocument/hl7:informationRecipient")
    extra = etree.fromstring(etree.tostring(recipient))
    one(extra, "//hl7:receivedOrganization/hl7:id").set("root", EXAMPLE_OTHER_ORG)
    recipient.addnext(extra)
    assert run(doc).findings == []  # another recipient besides the ministry is fine
    remove(doc, "/hl7:ClinicalDocument/hl7:informationRecipient[1]")
    assert rules(run(doc)) == {"H-informationRecipient"}


def test_legal_authenticator(doc):
    signature = one(doc, "//hl7:legalAuthenticator/hl7:signatureCode")
    del signature.attrib["nullFlavor"]
    signature.set("code", "S")
    assert rules(run(doc)) == {"H-legalAuthenticator"}
    remove(doc, "/hl7:ClinicalDocument/hl7:legalAuthenticator")
    (finding,) = run(doc).findings
    assert "1 элемент legalAuthenticator" in finding.message


def test_namespaces_are_real_extension_namespaces():
    assert NS["identity"] == "urn:hl7-ru:identity" and NS["fias"] == "urn:hl7-ru:fias"


def test_document_without_cda_namespace_is_left_to_the_xml_layer(valid_119_bytes):
    content = valid_119_bytes.replace(b'xmlns="urn:hl7-org:v3" ', b"")
    settings = ValidationSettings(layers=frozenset({"xml", "kind", "header", "cross"}))
    report = Validator(settings).validate(content)
    assert not report.valid
    assert {f.layer for f in report.errors} == {"xml"}
    assert not report.layer("header").ran and "urn:hl7-org:v3" in report.layer("header").reason


def test_text_of_every_element_of_the_examples_and_of_mixed_content(examples_dir):
    """The header rules read an element's text as all its text with whitespace collapsed (a leaf's own
    text, or every text chunk of its descendants); ``has_text`` says whether that is not empty. Checked
    on every element of the shared example documents and on mixed content, comments, CDATA and
    non-ASCII whitespace."""
    from mock_remd.validation.cda.access import has_text, text

    def reference(el):
        return " ".join("".join(el.itertext()).split())

    extra = etree.fromstring(
        "<r><a> x </a><b>\u00a0\u2003</b><c><!-- n --></c><d><![CDATA[ y ]]></d><e>\n<f/> z </e><g/><h>\u3000<i/></h></r>"
    )
    elements = [el for path in sorted(examples_dir.glob("*.xml")) for el in parse(path.read_bytes()).iter()]
    elements = [el for el in [*elements, *extra.iter()] if isinstance(el.tag, str)]  # elements, not comments
    assert len(elements) > 100
    for el in elements:
        assert text(el) == reference(el), el.tag
        assert has_text(el) == bool(reference(el)), el.tag
    assert text(None) == "" and not has_text(None)


_MIS_ID_CASES = [
    "1.2.643.5.1.13.13.12.2.50.99999.100.1.1.51", "1.2.51", "1.51", "3.2.51", "01.2.51", "1.02.51", "1.0.51",
    "1.0.0.51", "1.00.51", "1..2.51", "1.2..51", ".1.2.51", "1.2.51\n", "1.2.51\n\n", "1.2.51 ", " 1.2.51",
    "1.2.3.510", "1.2.3.5", "", ".51", "1.2.٣.51", "1.2.3a.51", "1.2.3.51.51", "2.0.51", "0.0.51", "1.20.51",
    "1.2.3.051", "1.2.3.\n51", "1.2.3.51\r", "1.2.+3.51",
]


@pytest.mark.parametrize("value", _MIS_ID_CASES)
def test_mis_id_root_answers_as_its_regex(value):
    from mock_remd.validation.cda.header_rules import DOC_ID_ROOT

    assert DOC_ID_ROOT.match(value) is (DOC_ID_ROOT.pattern.match(value) is not None)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.text(alphabet="0123.\n5 a٣", max_size=14).map(lambda s: s + ".51"), st.sampled_from(["", "\n"]))
def test_mis_id_root_answers_as_its_regex_generated(body, end):
    from mock_remd.validation.cda.header_rules import DOC_ID_ROOT

    value = body + end
    assert DOC_ID_ROOT.match(value) is (DOC_ID_ROOT.pattern.match(value) is not None)


@pytest.mark.parametrize("value", ["22176474057", "112-233-445 95", "11223344596", "٢٢١٧٦٤٧٤٠٥٧", "001-001-998 00",
                                   "001001999 00", "00100199800", "1122334459", "", None, "abc", "²2176474057",
                                   " 22176474057\n", "221764740571", "221-764-740 57\n", "221-764-74057"])
def test_snils_check_digit_as_published(value):
    _snils_as_published(value)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.text(alphabet="0123456789 -٣\n", min_size=9, max_size=15))
def test_snils_check_digit_as_published_generated(value):
    _snils_as_published(value)


def _snils_as_published(value):
    import re

    from mock_remd.validation.cda import snils

    d = re.sub(r"\D", "", value or "")  # the published algorithm, written out
    expected = len(d) == 11 and (int(d[:9]) <= 1001998
                                 or sum(int(x) * (9 - i) for i, x in enumerate(d[:9])) % 101 % 100 == int(d[9:]))
    assert snils.digits(value) == d
    assert snils.checksum_ok(value) is expected
    assert snils.shape_ok(value) is bool(snils.SNILS_SHAPE.match((value or "").strip()))


def test_finding_as_dict_is_dataclasses_asdict():
    import dataclasses

    from mock_remd.validation.report import Finding

    for f in (Finding("VALIDATION_ERROR", "Ошибка", layer="header", rule="H-id", path="/ClinicalDocument[1]", line=3),
              Finding("X", "y")):
        assert f.as_dict() == dataclasses.asdict(f)
        assert list(f.as_dict()) == [fl.name for fl in dataclasses.fields(Finding)]
