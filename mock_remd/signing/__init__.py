"""Signing helpers for MIS-side tooling (``mock-remd sign``/``send``/``generate``) and tests.

Pure Python (gostcrypto + asn1crypto); the Streebog digest uses OpenSSL's GOST engine when present.
The built-in keys under ``testkeys/`` are TEST KEYS, published with the source: never trust them.
"""

from mock_remd.signing.cms import sign_detached
from mock_remd.signing.pki import issue_doctor_cert, issue_org_cert
from mock_remd.signing.testkeys import TestIdentity, test_ca, test_doctor, test_organisation

__all__ = [
    "TestIdentity",
    "issue_doctor_cert",
    "issue_org_cert",
    "sign_detached",
    "test_ca",
    "test_doctor",
    "test_organisation",
]
