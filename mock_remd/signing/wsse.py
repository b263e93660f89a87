"""Sign a SOAP envelope with a GOST ``wsse:Security`` header laid out as IPS clients do (remd-protocol §1.5)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from lxml import etree

from mock_remd.gost import streebog, tlv
from mock_remd.namespaces import DS as DS_NS
from mock_remd.namespaces import EXC_C14N
from mock_remd.namespaces import WSSE as WSSE_NS
from mock_remd.namespaces import WSU as WSU_NS
from mock_remd.signing.keys import load_certificate, load_private_key

_CP = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:"
_BST_ENCODING = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
_X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
WSA_NS = "http://www.w3.org/2005/08/addressing"
_SIGNED_WSA = ("MessageID", "ReplyTo", "To", "Action")


def _ensure_id(element: etree._Element, value: str) -> str:
    key = f"{{{WSU_NS}}}Id"
    if not element.get(key):
        element.set(key, value)
    return element.get(key)


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def sign_envelope(envelope: bytes, key_pem: bytes, cert_pem: bytes, *, now: dt.datetime | None = None) -> bytes:
    """Return ``envelope`` with a ``wsse:Security`` header signing Body, Timestamp and the WS-Addressing headers."""
    key = load_private_key(key_pem)
    cert = load_certificate(cert_pem)
    bits = key.bits
    root = etree.fromstring(envelope)
    soap_ns = etree.QName(root).namespace
    header = root.find(f"{{{soap_ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header")
        root.insert(0, header)
    body = root.find(f"{{{soap_ns}}}Body")
    if body is None:
        raise ValueError("the envelope has no Body")
    ids = [_ensure_id(body, "body")]

    security = etree.Element(f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    header.insert(0, security)
    token_id = f"X509-{uuid.uuid4()}"
    token = etree.SubElement(security, f"{{{WSSE_NS}}}BinarySecurityToken", EncodingType=_BST_ENCODING, ValueType=_X509V3)
    token.set(f"{{{WSU_NS}}}Id", token_id)
    token.text = base64.b64encode(tlv.encoded(cert)).decode()
    signature = etree.SubElement(security, f"{{{DS_NS}}}Signature", Id=f"SIG-{uuid.uuid4()}", nsmap={"ds": DS_NS})
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    stamp = etree.SubElement(security, f"{{{WSU_NS}}}Timestamp")
    stamp_id = _ensure_id(stamp, f"TS-{uuid.uuid4()}")
    etree.SubElement(stamp, f"{{{WSU_NS}}}Created").text = created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    expires = created + dt.timedelta(minutes=10)
    etree.SubElement(stamp, f"{{{WSU_NS}}}Expires").text = expires.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    ids.append(stamp_id)
    for name in _SIGNED_WSA:
        element = header.find(f"{{{WSA_NS}}}{name}")
        if element is not None:
            ids.append(_ensure_id(element, f"id-{uuid.uuid4()}"))

    signed_info = etree.SubElement(signature, f"{{{DS_NS}}}SignedInfo")
    etree.SubElement(signed_info, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(signed_info, f"{{{DS_NS}}}SignatureMethod", Algorithm=f"{_CP}gostr34102012-gostr34112012-{bits}")
    for ref_id in ids:
        target = root.xpath("//*[@wsu:Id=$v]", namespaces={"wsu": WSU_NS}, v=ref_id)[0]
        ref = etree.SubElement(signed_info, f"{{{DS_NS}}}Reference", URI=f"#{ref_id}")
        transforms = etree.SubElement(ref, f"{{{DS_NS}}}Transforms")
        etree.SubElement(transforms, f"{{{DS_NS}}}Transform", Algorithm=EXC_C14N)
        etree.SubElement(ref, f"{{{DS_NS}}}DigestMethod", Algorithm=f"{_CP}gostr34112012-{bits}")
        etree.SubElement(ref, f"{{{DS_NS}}}DigestValue").text = base64.b64encode(
            streebog.digest(_c14n(target), bits)
        ).decode()
    value = key.sign(streebog.digest(_c14n(signed_info), bits))
    etree.SubElement(signature, f"{{{DS_NS}}}SignatureValue").text = base64.b64encode(value).decode()
    key_info = etree.SubElement(signature, f"{{{DS_NS}}}KeyInfo", Id=f"KI-{uuid.uuid4()}")
    str_ = etree.SubElement(key_info, f"{{{WSSE_NS}}}SecurityTokenReference")
    str_.set(f"{{{WSU_NS}}}Id", f"STR-{uuid.uuid4()}")
    etree.SubElement(str_, f"{{{WSSE_NS}}}Reference", URI=f"#{token_id}", ValueType=_X509V3)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
