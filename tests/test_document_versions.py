"""New versions of a document made elsewhere (the official 119 example): ``generate --version-of``,
the header facts the registry reads, and the cross layer's association checks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from _cda_testing import EXAMPLE_UID, matching_request
from lxml import etree

from mock_remd.cli.main import main
from mock_remd.domain.model import Association
from mock_remd.namespaces import SERVICE
from mock_remd.validation.cda.versions import identity_of_bytes
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pipeline import Validator

V3 = "urn:hl7-org:v3"
SET_ID = "1.2.643.5.1.13.13.12.2.50.99999.100.1.1.50|CONS-2024-000123"


def _version_of(tmp_path: Path, source: Path, *extra: str) -> tuple[bytes, etree._Element]:
    out = tmp_path / "v2"
    assert main(["generate", "--version-of", str(source), "--out", str(out), "--unsigned", *extra]) == 0
    cda = next(p for p in out.iterdir() if not p.name.endswith(".request.xml"))
    request = etree.fromstring((out / cda.name.replace(".xml", ".request.xml")).read_bytes())
    return cda.read_bytes(), request


def test_version_of_the_official_example(tmp_path, examples_dir):
    source = examples_dir / "consultation-119-valid.xml"
    content, request = _version_of(tmp_path, source, "--emdr-id", "1.50.26.12.000000042")
    v1, v2 = identity_of_bytes(source.read_bytes(), max_bytes=10**7), identity_of_bytes(content, max_bytes=10**7)
    assert (v1.version_number, v2.version_number) == (1, 2)
    assert v2.set_id == v1.set_id == SET_ID and v2.local_uid != v1.local_uid
    (parent,) = v2.parents
    assert parent.type_code == "RPLC" and parent.local_ids == (EXAMPLE_UID,)
    assert parent.emdr_ids == ("1.50.26.12.000000042",) and parent.set_id == SET_ID and parent.version_number == 1
    assert request.findtext(f".//{{{SERVICE}}}localUid") == v2.local_uid
    assert request.findtext(f".//{{{SERVICE}}}association/{{{SERVICE}}}target") == "1.50.26.12.000000042"
    assert request.findtext(f".//{{{SERVICE}}}association/{{{SERVICE}}}type") == "RPLC"


def test_version_of_a_file_that_is_not_a_document(tmp_path, capsys):
    bad = tmp_path / "bad.xml"
    bad.write_text("<notCda/>")
    assert main(["generate", "--version-of", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.xml" in err and "ClinicalDocument" in err and "Traceback" not in err


@pytest.fixture
def v2(tmp_path, examples_dir) -> bytes:
    content, _ = _version_of(tmp_path, examples_dir / "consultation-119-valid.xml")
    return content


def _cross(content: bytes, request, *, strict: bool = False):
    settings = ValidationSettings(layers=frozenset({"xml", "kind", "cross"}),
                                  options={"lifecycle": {"strict": strict, "version_types": ["RPLC"]}})
    report = Validator(settings).validate(content, request=request)
    return next(layer for layer in report.layers if layer.name == "cross")


def _request(content: bytes, *associations: Association):
    uid = identity_of_bytes(content, max_bytes=10**7).local_uid
    return replace(matching_request(), local_uid=uid, associations=list(associations))


def test_cross_layer_accepts_a_version_linked_like_its_header(v2):
    cross = _cross(v2, _request(v2, Association(EXAMPLE_UID, "RPLC")), strict=True)
    assert cross.passed, [f.message for f in cross.findings]
    assert cross.details["version_number"] == 2 and cross.details["set_id"] == SET_ID


def test_cross_layer_names_a_previous_version_other_than_the_requests(v2):
    cross = _cross(v2, _request(v2, Association("8d7c6b5a-0000-4000-8000-000000000001", "RPLC")))
    (finding,) = cross.findings
    assert finding.code == "VALIDATION_ERROR" and finding.rule == "C-version-parent"
    assert finding.message == (
        f"Идентификатор предыдущей версии документа в ЭМД [{EXAMPLE_UID}] отличается от идентификатора "
        "предыдущей версии документа в запросе на регистрацию сведений [8d7c6b5a-0000-4000-8000-000000000001]")
    assert finding.path == "/ClinicalDocument[1]/relatedDocument[1]/parentDocument[1]"


def test_cross_layer_contradictions_in_the_header(v2):
    broken = v2.replace(b'<versionNumber value="1"/></parentDocument>', b'<versionNumber value="2"/></parentDocument>')
    broken = broken.replace(b'extension="CONS-2024-000123"/><versionNumber value="2"/></parentDocument>',
                            b'extension="OTHER-SET"/><versionNumber value="2"/></parentDocument>')
    cross = _cross(broken, _request(broken, Association(EXAMPLE_UID, "RPLC")))
    assert {f.rule for f in cross.findings} == {"C-version-setId", "C-version-number"}


def test_one_sided_links_only_in_strict_mode(v2, valid_119_bytes):
    lenient = _cross(v2, _request(v2))
    assert lenient.passed
    strict = _cross(v2, _request(v2), strict=True)
    assert [f.rule for f in strict.findings] == ["C-version-association"]
    first = _cross(valid_119_bytes, _request(valid_119_bytes, Association("x", "RPLC")), strict=True)
    assert {f.rule for f in first.findings} == {"C-version-related", "C-version-first"}
