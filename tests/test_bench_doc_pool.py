"""The paced benchmark's pool: distinct copies of one generated document that pass full validation."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from mock_remd.bench.doc_pool import variants
from mock_remd.generator import generate
from mock_remd.gost import openssl_gost
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pipeline import Validator

TESTKEYS = Path(__file__).resolve().parents[1] / "mock_remd" / "signing" / "testkeys"
needs_engine = pytest.mark.skipif(openssl_gost.backend_name() != "openssl",
                                  reason="OpenSSL GOST engine (libengine-gost-openssl) missing")


@needs_engine
def test_copies_carry_their_local_uid_and_signatures_made_over_them(tmp_path):
    doc = generate("186", seed=1)
    copies = list(variants(doc, 2))
    assert len({c.local_uid for c in copies} | {doc.local_uid}) == 3
    settings = ValidationSettings(layers=frozenset({"xml", "kind", "header", "cross", "signatures"}),
                                  signatures="crypto", trusted_ca=TESTKEYS / "ca.pem")
    validator = Validator(settings)
    for req in copies:
        content = base64.b64decode(req.document.data_b64)
        assert req.local_uid.encode() in content and doc.local_uid.encode() not in content
        report = validator.validate(content, request=req)
        assert report.valid, [e.message for e in report.errors]
        # the original's signatures no longer fit the copy: the copy's signatures were really re-made
        stale = validator.validate(content, request=doc.request.__class__(**{**req.__dict__, "personal_signs":
                                                                             doc.request.personal_signs}))
        assert not stale.valid

    # OpenSSL's own CMS verifier accepts a re-made signature over the copy (another toolchain)
    req = copies[0]
    (tmp_path / "doc.xml").write_bytes(base64.b64decode(req.document.data_b64))
    (tmp_path / "sig.der").write_bytes(base64.b64decode(req.personal_signs[0].signature.data_b64))
    check = subprocess.run(["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
                            "-in", "sig.der", "-content", "doc.xml", "-noverify", "-out", "/dev/null"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
