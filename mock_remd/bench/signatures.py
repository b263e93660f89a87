#!/usr/bin/env python3
"""Time the ``signatures`` layer per document (doctor + organisation signature, 50 KB document).

    .venv/bin/python -m mock_remd.bench.signatures [--size 50000] [--n 500]     (part of ``make bench``)

Prints milliseconds per document (wall clock, and CPU time, which a busy shared machine disturbs less) for each level, with the certificate-facts cache warm (the usual case:
the same signers sign many documents) and cold (a new certificate every time), and the Streebog backend.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time

from mock_remd.domain.model import Attachment, Doctor, Person, PersonalSign, RegisterRequest
from mock_remd.gost import certs, streebog
from mock_remd.signing import sign_detached, test_doctor, test_organisation
from mock_remd.signing.testkeys import DOCTOR
from mock_remd.validation.caches import ValidationCaches
from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.layers.signatures_layer import SignaturesLayer
from mock_remd.validation.signatures import verify


def cpu_ms_per_signature(content: bytes, request: RegisterRequest, *, level: str = "crypto", n: int = 200) -> float:
    """CPU ms the signatures layer spends per signature of ``request`` at ``level`` (certificate facts warm,
    the document's digest and the CMS inspection included)."""
    settings = ValidationSettings(signatures=level)
    caches = ValidationCaches()
    layer = SignaturesLayer(settings)
    report = layer.run(DocumentContext(content=content, settings=settings, request=request, caches=caches))
    if not report.passed:
        raise ValueError(f"the signatures do not pass at {level}")
    signatures = len(request.personal_signs) + (request.org_signature is not None)
    cpu = time.process_time()
    for _ in range(n):
        layer.run(DocumentContext(content=content, settings=settings, request=request, caches=caches))
    return (time.process_time() - cpu) * 1000 / n / max(signatures, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    doc = b"<ClinicalDocument>" + b"x" * args.size + b"</ClinicalDocument>"
    d, o = test_doctor(), test_organisation()
    person = Person(**{k: DOCTOR[k] for k in ("snils", "surname", "name", "patronymic")})
    req = RegisterRequest(
        kind="119", creation_date_time="2025-03-11T11:05:00+03:00",
        personal_signs=[PersonalSign(Doctor(person=person), Attachment(base64.b64encode(sign_detached(doc, d.key_pem, d.cert_pem)).decode()))],
        org_signature=Attachment(base64.b64encode(sign_detached(doc, o.key_pem, o.cert_pem)).decode()),
    )
    print(f"streebog backend: {streebog.backend_name()}; signature values: {verify.backend_name()}; "
          f"document {len(doc)} bytes; doctor + organisation signature")
    for level in ("structure", "digest", "crypto"):
        settings = ValidationSettings(signatures=level)
        caches = ValidationCaches()
        layer = SignaturesLayer(settings)
        n = args.n if level != "crypto" or verify.backend_name() == "openssl" else 5
        report = layer.run(DocumentContext(content=doc, settings=settings, request=req, caches=caches))
        assert report.passed, report.findings
        for cache in ("warm", "cold"):
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                if cache == "cold":
                    certs._facts.cache_clear()
                    certs.read_certificate.cache_clear()
                layer.run(DocumentContext(content=doc, settings=settings, request=req, caches=caches))
            wall = (time.perf_counter() - start) / n * 1000
            used = (time.process_time() - cpu) / n * 1000
            print(f"{level:9s} {cache}: {wall:7.3f} ms/document ({used:.3f} ms CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
