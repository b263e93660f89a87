#!/usr/bin/env python3
"""Regenerate the built-in TEST PKI in ``mock_remd/signing/testkeys/`` (pure Python, no OpenSSL needed).

    .venv/bin/python scripts/make_test_pki.py [--out DIR]

Writes a self-signed test CA (GOST R 34.10-2012 256, tc26 paramSetA), a doctor certificate
(SNILS/INN/name from ``mock_remd.signing.testkeys.DOCTOR``) and an organisation certificate
(OGRN/INN ЮЛ from ``ORGANISATION``), each with its PKCS#8 key in OpenSSL's GOST format.
Validity: 2020-01-01 .. 2045-12-31, so fixed test documents stay valid. The keys are public: TEST ONLY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mock_remd.gost import oids  # noqa: E402
from mock_remd.gost.keys import GostPrivateKey  # noqa: E402
from mock_remd.signing.keys import dump_certificate, dump_private_key  # noqa: E402
from mock_remd.signing.pki import build_certificate, build_name  # noqa: E402
from mock_remd.signing.testkeys import DOCTOR, ORGANISATION, TESTKEYS_DIR  # noqa: E402

UTC = dt.UTC
NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=UTC)
NOT_AFTER = dt.datetime(2045, 12, 31, 23, 59, 59, tzinfo=UTC)
BANNER = "TEST KEY of mock-remd, published with its source code: never trust it outside tests\n"


def _write(out: Path, stem: str, key: GostPrivateKey, cert) -> None:
    (out / f"{stem}.key.pem").write_bytes(BANNER.encode() + dump_private_key(key))
    (out / f"{stem}.pem").write_bytes(BANNER.encode() + dump_certificate(cert))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TESTKEYS_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    ca_key = GostPrivateKey.generate(oids.PARAMSET_256_A)
    ca_cert = build_certificate(
        subject=build_name(
            country_name="RU", locality_name="Красногорск", organization_name="mock-remd (TEST ONLY)",
            common_name="Тестовый УЦ mock-remd (TEST ONLY)", ogrn="1025000000010", inn_le="5000000017",
        ),
        public_key=ca_key.public_key(), issuer_key=ca_key, not_before=NOT_BEFORE, not_after=NOT_AFTER, ca=True,
    )
    _write(args.out, "ca", ca_key, ca_cert)

    doc_key = GostPrivateKey.generate(oids.PARAMSET_256_B)
    doc_cert = build_certificate(
        subject=build_name(
            country_name="RU", organization_name=ORGANISATION["name"], title="Врач-терапевт",
            common_name=f"{DOCTOR['surname']} {DOCTOR['name']} {DOCTOR['patronymic']}",
            surname=DOCTOR["surname"], given_name=f"{DOCTOR['name']} {DOCTOR['patronymic']}",
            snils=DOCTOR["snils"], inn=DOCTOR["inn"],
        ),
        public_key=doc_key.public_key(), issuer_key=ca_key, issuer_cert=ca_cert,
        not_before=NOT_BEFORE, not_after=NOT_AFTER,
    )
    _write(args.out, "doctor", doc_key, doc_cert)

    org_key = GostPrivateKey.generate(oids.PARAMSET_256_B)
    org_cert = build_certificate(
        subject=build_name(
            country_name="RU", locality_name="Красногорск", organization_name=ORGANISATION["name"],
            common_name=ORGANISATION["name"], ogrn=ORGANISATION["ogrn"], inn_le=ORGANISATION["inn_le"],
        ),
        public_key=org_key.public_key(), issuer_key=ca_key, issuer_cert=ca_cert,
        not_before=NOT_BEFORE, not_after=NOT_AFTER,
    )
    _write(args.out, "org", org_key, org_cert)
    print(f"test PKI written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
