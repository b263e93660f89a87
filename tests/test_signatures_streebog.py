"""Streebog backends: RFC 6986 vectors on both, agreement on random data, backend selection."""

from __future__ import annotations

import os

import pytest

from mock_remd.config import Settings, register_gost_backends
from mock_remd.gost import streebog

# RFC 6986 §10: messages and digests are printed there as big numbers (most significant byte first);
# hash tools and CMS use the reversed byte order, hence the [::-1] below.
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M2 = bytes.fromhex(
    "fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2f120fff0eeec20f120faf2fee5e2202ce8f6f3ede220"
    "e8e6eee1e8f0f2d1202ce8f0f2e5e220e5d1"
)[::-1]
VECTORS = [
    (M1, 256, "00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d"),
    (M2, 256, "508f7e553c06501d749a66fc28c6cac0b005746d97537fa85d9e40904efed29d"),
    (M1, 512, "486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00"
              "fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b"),
    (M2, 512, "28fbc9bada033b1460642bdcddb90c3fb3e56c497ccd0f62b8a2ad4935e85f03"
              "7613966de4ee00531ae60f3b5a47f8dae06915d5f2f194996fcabf2622e6881e"),
]


def _openssl_available() -> bool:
    try:
        streebog.openssl_digest(b"")
        return True
    except ValueError:
        return False


def test_m2_is_the_igor_tale_in_cp1251():
    assert M2.decode("cp1251").startswith("Се ветри, Стрибожи внуци")


@pytest.mark.parametrize("message, bits, expected", VECTORS)
def test_pure_python_backend_matches_rfc_6986(message, bits, expected):
    assert streebog.gostcrypto_digest(message, bits)[::-1].hex() == expected


@pytest.mark.parametrize("message, bits, expected", VECTORS)
def test_openssl_backend_matches_rfc_6986(message, bits, expected):
    streebog.backend_name()  # loads the GOST provider when it is installed
    if not _openssl_available():
        pytest.skip("OpenSSL GOST engine/provider not installed (libengine-gost-openssl)")
    assert streebog.openssl_digest(message, bits)[::-1].hex() == expected


def test_backends_agree_on_random_data_and_empty_input():
    streebog.backend_name()
    if not _openssl_available():
        pytest.skip("OpenSSL GOST engine/provider not installed")
    for data in (b"", os.urandom(1), os.urandom(64), os.urandom(1000)):
        for bits in (256, 512):
            assert streebog.openssl_digest(data, bits) == streebog.gostcrypto_digest(data, bits)


def test_digest_uses_the_selected_backend_and_rejects_other_sizes():
    assert streebog.digest(M1)[::-1].hex() == VECTORS[0][2]
    assert len(streebog.digest(M1, 512)) == 64
    with pytest.raises(ValueError):
        streebog.digest(M1, 384)


def test_the_setting_forces_the_pure_python_backend():
    settings = Settings.load({}, environ={"MOCK_REMD_STREEBOG": "gostcrypto"})
    try:
        register_gost_backends(settings)
        assert streebog.backend_name() == "gostcrypto"
        assert streebog.digest(M1)[::-1].hex() == VECTORS[0][2]
    finally:
        register_gost_backends(Settings.load({}, environ={}))
    assert streebog.backend_name() == ("openssl" if _openssl_available() else "gostcrypto")


def test_warning_only_for_the_slow_backend(monkeypatch):
    if streebog.backend_name() == "openssl":
        assert streebog.backend_warning() is None
    monkeypatch.setattr(streebog, "_backend", "gostcrypto")
    warning = streebog.backend_warning()
    assert warning and "libengine-gost-openssl" in warning
