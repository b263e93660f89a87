"""Pull mode: ``getDocumentFile`` — the registry asks the MIS for the CDA file (federal flow)."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

import requests
from lxml import etree

from mock_remd.catalog import errors as E
from mock_remd.catalog.errors import ErrorItem
from mock_remd.catalog.findings import text as finding_text
from mock_remd.catalog.incidents import host_port, network_failure
from mock_remd.namespaces import CALLBACK, SOAP11, WSA
from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, local_name, parse_bytes, text_of

log = logging.getLogger(__name__)



@dataclass
class PullResult:
    """The file, or the error items that explain why there is none."""

    content: bytes | None
    errors: list[ErrorItem]


def request_envelope(local_uid: str, to: str) -> bytes:
    """The ``getDocumentFileRequest`` the registry sends."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:wsa="{WSA}">'
        f"<soapenv:Header><wsa:Action>getDocumentFile</wsa:Action><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:To>{escape(to)}</wsa:To></soapenv:Header><soapenv:Body>"
        f'<ns2:getDocumentFileRequest xmlns:ns2="{CALLBACK}"><ns2:localUid>{escape(local_uid)}</ns2:localUid>'
        "</ns2:getDocumentFileRequest></soapenv:Body></soapenv:Envelope>"
    ).encode()


def _find(root: etree._Element, name: str) -> etree._Element | None:
    for el in root.iter():
        if isinstance(el.tag, str) and local_name(el) == name:
            return el
    return None


def pull_document(url: str, local_uid: str, *, timeout: float, max_bytes: int,
                  session: requests.Session | None = None) -> PullResult:
    """Call ``getDocumentFile`` on the MIS and decode its answer."""
    http = session or requests
    try:
        resp = http.post(
            url,
            data=request_envelope(local_uid, url),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"getDocumentFile"'},
            timeout=timeout,
            allow_redirects=False,  # a redirect is the MIS's answer, never followed
        )
    except requests.RequestException as exc:
        return PullResult(None, [E.item("MIS_NOT_AVAILABLE", detail=network_failure(url, exc, timeout=timeout))])
    if resp.status_code >= 300:
        return PullResult(None, [E.item("RMIS_ERROR", finding_text("pull.http_status", status=resp.status_code))])
    try:
        root = parse_bytes(resp.content, max_bytes=max_bytes)
    except XmlTooLargeError:
        text = finding_text("pull.too_large", address=host_port(url), limit=max_bytes)
        return PullResult(None, [E.item("RMIS_ERROR", text)])
    except UnsafeXmlError:
        return PullResult(None, [E.item("RMIS_ERROR", finding_text("pull.unsafe", address=host_port(url)))])
    except Exception:  # not XML: the MIS's error, said in one sentence (the parser's text stays in the log)
        log.info("getDocumentFile answer from %s is not XML", host_port(url), exc_info=True)
        return PullResult(None, [E.item("RMIS_ERROR", finding_text("pull.not_xml", address=host_port(url)))])
    if _find(root, "Fault") is not None:
        reason = _find(root, "Text")
        if reason is None:
            reason = _find(root, "faultstring")
        text = text_of(reason) or "SOAP Fault"
        return PullResult(None, [E.item("RMIS_ERROR", finding_text("pull.fault", reason=text[:500]))])
    data_el = _find(root, "data")
    if not text_of(data_el):
        return PullResult(None, [E.item("FILE_WAS_NOT_SENT")])
    try:
        content = base64.b64decode("".join(text_of(data_el).split()), validate=True)
    except (binascii.Error, ValueError):
        return PullResult(None, [E.item("GET_DOCUMENT_FILE_ERROR", detail=finding_text("pull.bad_base64"))])
    checksum_el = _find(root, "checksum")
    declared = text_of(checksum_el)
    if declared:
        actual = zlib.crc32(content) & 0xFFFFFFFF
        if not declared.isdigit() or int(declared) != actual:
            return PullResult(
                None,
                [E.item("GET_DOCUMENT_FILE_ERROR",
                        detail=finding_text("pull.checksum", actual=actual, declared=declared))],
            )
    return PullResult(content, [])
