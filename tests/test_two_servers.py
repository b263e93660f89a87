"""Two servers in one process with different settings, both running at once (issue 18).

Settings are read once and passed down, and what validation prepares (pack indexes, schemas, compiled
Schematrons) belongs to each server's Runtime, so two in-process servers (the pytest plugin's
ThreadedServer) give each document the verdict of their own settings.
"""

from __future__ import annotations

import uuid

import requests
from remd_requests import DEMO_CLIENT, DEMO_ORG, post

from mock_remd.client.document import build_request, read_facts
from mock_remd.client.signers import SignerSet
from mock_remd.soap.builders import register_envelope


def _send(srv, content: bytes) -> str:
    req = build_request(read_facts(content), content, SignerSet(), system="demo", client_entity_id=DEMO_CLIENT,
                        organization=DEMO_ORG, kind="119", message_id=f"urn:uuid:{uuid.uuid4()}")
    req.patient.snils = "11223344595"  # the example's own SNILS is refused synchronously, by both
    resp = post(srv.soap_url, register_envelope(req))
    assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
    return req.message_id


def test_two_servers_in_one_process_keep_their_own_settings(make_server, sink, packs_dir, examples_dir, tmp_path):
    strict = make_server(validation="all", signatures="digest", packs_dir=str(packs_dir),
                         cache_dir=str(tmp_path / "cache"))
    lenient = make_server(validation="xml", signatures="off")
    uid = str(uuid.uuid4())
    content = (examples_dir / "consultation-119-invalid-schematron.xml").read_bytes().replace(
        b'extension="CONS-2024-000123"', f'extension="{uid}"'.encode())

    # the same document to both, before either answers back
    to_strict, to_lenient = _send(strict, content), _send(lenient, content)
    rejected, registered = sink.wait_for(to_strict, timeout=60), sink.wait_for(to_lenient, timeout=60)

    assert rejected.status == "error" and "VALIDATION_ERROR" in rejected.error_codes
    assert registered.status == "success", registered.errors

    ready = {name: requests.get(f"{srv.url}/ready", timeout=10).json()["details"]
             for name, srv in (("strict", strict), ("lenient", lenient))}
    assert "schematron" in ready["strict"]["validation_layers"]
    assert ready["lenient"]["validation_layers"] == ["xml"]
    assert ready["strict"]["packs"]["installed"] >= 4 and ready["lenient"]["packs"]["installed"] == 0

    # what validation prepared belongs to each server, not to the process
    mine, theirs = strict.runtime.validator.caches, lenient.runtime.validator.caches
    assert mine is not theirs
    assert len(mine.schematrons) == 1 and len(mine.pack_schemas) == 1
    assert len(theirs.schematrons) == 0 and len(theirs.pack_schemas) == 0
    assert strict.runtime.kinds is not lenient.runtime.kinds
