"""Importing mock-remd changes nothing in asn1crypto for its host process (an MIS's own test suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: runs in a fresh interpreter: parse certificates with plain asn1crypto, import every mock_remd module
#: (the pytest plugin too), use the signature layer, parse again, and print both snapshots
_PROBE = r"""
import importlib, json, pkgutil, sys
from asn1crypto import algos, cms, core, crl, csr, keys, ocsp, pdf, pkcs12, tsp, x509  # asn1crypto's own
# modules extend each other's maps when imported (tsp adds TSTInfo to cms): load them all first

ders = [open(p, "rb").read() for p in sys.argv[1:]]

def maps():
    out = {}
    for mod in (algos, cms, core, crl, csr, keys, ocsp, pdf, pkcs12, tsp, x509):
        for name in dir(mod):
            cls = getattr(mod, name)
            if not isinstance(cls, type):
                continue
            for attr in ("_map", "_oid_specs", "_spec_callbacks"):  # _reverse_map: a lazily built cache
                value = cls.__dict__.get(attr)
                if isinstance(value, dict):
                    out[f"{mod.__name__}.{name}.{attr}"] = sorted(map(repr, value.items()))
    return out

def attempt(read):
    try:
        return repr(read())
    except Exception as exc:  # what plain asn1crypto does with a GOST part, whatever it is
        return type(exc).__name__

def parse():
    out = []
    for der in ders:
        from asn1crypto import pem
        if pem.detect(der):
            der = pem.unarmor(der)[2]
        cert = x509.Certificate.load(der)
        out.append({
            "subject": attempt(lambda: cert.subject.native), "issuer": attempt(lambda: cert.issuer.native),
            "human": attempt(lambda: cert.subject.human_friendly),
            "key": attempt(lambda: cert.public_key["algorithm"]["algorithm"].native),
            "public_key": attempt(lambda: cert.public_key["public_key"].native),
            "sig": attempt(lambda: cert["signature_algorithm"]["algorithm"].native),
            "extensions": attempt(lambda: [e["extn_id"].native for e in cert["tbs_certificate"]["extensions"]]),
        })
    return out

before = {"maps": maps(), "parsed": parse()}
import mock_remd
names = sorted(m.name for m in pkgutil.walk_packages(mock_remd.__path__, "mock_remd.") if not m.name.endswith("__main__"))
for name in names:
    importlib.import_module(name)
from mock_remd.gost import certs
from mock_remd.validation.signatures import cms as our_cms
from asn1crypto import pem
for der in ders:
    certs.read_certificate(pem.unarmor(der)[2] if pem.detect(der) else der)
after = {"maps": maps(), "parsed": parse()}
print(json.dumps({"before": before, "after": after, "imported": names}))
"""


def _certificates() -> list[Path]:
    testkeys = ROOT / "mock_remd" / "signing" / "testkeys"
    return [testkeys / "ca.pem", testkeys / "doctor.pem", testkeys / "org.pem"]


def _probe(paths: list[Path]) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, *map(str, paths)], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_importing_every_module_leaves_asn1crypto_as_it_was():
    result = _probe(_certificates())
    assert len(result["imported"]) > 50 and "mock_remd.testing.pytest_plugin" in result["imported"]
    assert result["after"]["maps"] == result["before"]["maps"]
    assert result["after"]["parsed"] == result["before"]["parsed"]
    # plain asn1crypto keeps the Russian attributes as dotted OIDs in whatever string they came
    assert "1.2.643.100.3" in result["after"]["parsed"][1]["subject"]


def test_openssl_made_certificates_parse_the_same_before_and_after_import(openssl_pki):
    result = _probe([openssl_pki.path("ca256.pem"), openssl_pki.path("doctor256.pem"), openssl_pki.path("org512.pem")])
    assert result["after"] == result["before"]
