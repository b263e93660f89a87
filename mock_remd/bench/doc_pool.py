"""Many distinct, correctly signed registrations from one generated document, fast.

A paced benchmark needs documents that *register*: the localUid of each request must be the one
inside its document (the cross layer compares them), and every detached signature must still cover
the document. Generating and signing each document with the pure-Python signer takes about a second;
here one document is generated, its localUid replaced by a fresh one in each copy, and each of its
CMS signatures re-made over the new bytes by OpenSSL's GOST engine (about 2.5 ms a signature): the
messageDigest attribute gets the copy's Streebog digest and the signature value is computed anew over
the signed attributes with the same TEST key. Certificates, signing time and every other byte stay.
"""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Iterator

from asn1crypto import cms, pem

from mock_remd.domain.model import Attachment, RegisterRequest
from mock_remd.generator import GeneratedDocument
from mock_remd.gost import oids, openssl_gost, streebog
from mock_remd.soap.builders import attachment


class PoolError(RuntimeError):
    """The pool cannot be built (no GOST engine, a signature not made by the TEST keys)."""


def _pkcs8(key_pem: bytes) -> bytes:
    start = key_pem.index(b"-----BEGIN")  # the TEST key files start with a warning line
    return pem.unarmor(key_pem[start:])[2]


def resign(cms_der: bytes, content: bytes, key_der: bytes) -> bytes:
    """``cms_der`` (a detached CMS SignedData with signed attributes) re-signed over ``content``."""
    signer = cms.ContentInfo.load(cms_der)["content"]["signer_infos"][0]
    bits = oids.DIGEST_BITS[signer["digest_algorithm"]["algorithm"].dotted]
    attrs = signer["signed_attrs"].dump()
    old_digest = next(a["values"][0].native for a in signer["signed_attrs"] if a["type"].native == "message_digest")
    old_signature = signer["signature"].native
    new_digest = streebog.digest(content, bits)
    new_attrs = attrs.replace(old_digest, new_digest)
    # the signature covers the attributes encoded as a SET (tag 0x31), not as the [0] they travel in
    signature = openssl_gost.sign(key_der, streebog.digest(b"\x31" + new_attrs[1:], bits))
    if signature is None or len(signature) != len(old_signature):
        raise PoolError("OpenSSL's GOST engine could not sign (Debian package libengine-gost-openssl)")
    if cms_der.count(old_digest) != 1 or cms_der.count(old_signature) != 1:
        raise PoolError("the signature's digest or value is not unique in its CMS")
    return cms_der.replace(old_digest, new_digest).replace(old_signature, signature)


def _resign_attachment(att: Attachment | None, content: bytes, key_der: bytes) -> Attachment | None:
    if att is None or not att.data_b64:
        return att
    return attachment(resign(base64.b64decode(att.data_b64), content, key_der))


def variants(doc: GeneratedDocument, count: int) -> Iterator[RegisterRequest]:
    """``count`` requests for copies of ``doc`` (signed by the built-in TEST PKI), each with its own
    localUid inside the document and a fresh MessageID, signatures re-made for the copy."""
    from mock_remd.signing import testkeys

    doctor_key = _pkcs8(testkeys.test_doctor().key_pem)
    org_key = _pkcs8(testkeys.test_organisation().key_pem)
    old_uid = doc.request.local_uid.encode()
    if old_uid not in doc.content:
        raise PoolError("the document does not contain its request's localUid")
    for _ in range(count):
        uid = str(uuid.uuid4())
        content = doc.content.replace(old_uid, uid.encode())
        signs = [dataclasses.replace(s, signature=_resign_attachment(s.signature, content, doctor_key))
                 for s in doc.request.personal_signs]
        yield dataclasses.replace(
            doc.request, local_uid=uid, message_id=f"urn:uuid:{uuid.uuid4()}", document=attachment(content),
            personal_signs=signs, org_signature=_resign_attachment(doc.request.org_signature, content, org_key),
        )
