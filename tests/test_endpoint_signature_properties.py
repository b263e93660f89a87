"""Generated certificates and CMS (the strategies of test_signatures_properties.py) sent through the real
server: every callback is a success or carries registry codes with plain messages, and the server stays
healthy. A bounded sample; the layer-level property tests cover many more shapes faster."""

from __future__ import annotations

import base64
import uuid

import requests
from hypothesis import HealthCheck, Phase, given, settings
from remd_requests import post, register_request
from test_signatures_properties import DOC, LAYER_CODES, LEAKS, PERSON, _org_signature, containers

from mock_remd.domain.model import Attachment, Doctor, PersonalSign
from mock_remd.soap.builders import attachment, register_envelope


def test_generated_signatures_through_the_server(make_server, sink):
    srv = make_server(validation="signatures", signatures="digest")
    seen: list[str] = []

    @settings(max_examples=6, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=containers())
    def send(data):
        b64, good = data
        req = register_request(content=DOC, local_uid=str(uuid.uuid4()))
        req.creation_date_time = "2025-03-11T11:05:00+03:00"
        req.personal_signs = [PersonalSign(doctor=Doctor(role="1", person=PERSON, position="34", speciality="27"),
                                           signature=Attachment(b64, attachment(base64.b64decode(b64)).checksum))]
        req.org_signature = attachment(base64.b64decode(_org_signature()))
        resp = post(srv.soap_url, register_envelope(req))
        assert "<ns3:status>success</ns3:status>" in resp.text, resp.text
        result = sink.wait_for(req.message_id, timeout=60)
        messages = [e["message"] for e in result.errors]
        assert set(result.error_codes) <= LAYER_CODES, result.errors
        assert not any(leak in m for m in messages for leak in LEAKS), messages
        if good:
            assert result.status == "success", result.errors
        seen.append(result.status)

    send()
    assert seen, seen
    assert requests.get(f"{srv.url}/ready", timeout=10).status_code == 200
