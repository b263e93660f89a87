"""Admin API and SOAP endpoint answers a new user can read (issue 13): parameters named, no library text."""

from __future__ import annotations

import pytest
from conftest import unbound_app
from werkzeug.test import Client

from mock_remd.generator import generate
from mock_remd.soap.builders import content_type


@pytest.fixture(scope="module")
def app():
    """No socket needed: the admin API through Flask's test client, the SOAP endpoint through werkzeug's."""
    with unbound_app() as app:
        yield app


@pytest.mark.parametrize(("path", "param", "value"), [
    ("/_admin/requests", "limit", "abc"),
    ("/_admin/documents", "offset", "-1"),
    ("/_admin/callbacks", "limit", "0"),
    ("/_admin/documents", "status", "weird"),
])
def test_bad_query_parameter_is_a_400_naming_it(app, path, param, value):
    resp = app.admin.test_client().get(f"{path}?{param}={value}")
    assert resp.status_code == 400
    body = resp.json
    assert body["error"].startswith(f"параметр {param}={value}: ")
    assert body["detail"] == {"parameter": param}
    assert "invalid literal" not in resp.text


@pytest.mark.parametrize("query", ["system=a%00b", "local_uid=%00", "a%00b=1"])
def test_nul_in_query_parameter_is_a_400_naming_it(app, query):
    resp = app.admin.test_client().get(f"/_admin/requests?{query}")
    assert resp.status_code == 400 and resp.json["error"].startswith("параметр")
    assert resp.json["detail"] == {"parameter": query.split("=")[0].replace("%00", "\x00")}
    where = "в имени" if query.startswith("a%00") else "в значении"
    assert resp.json["error"].endswith(where)


def test_nul_in_json_key_names_the_key_not_a_value(app):
    resp = app.admin.test_client().post("/_admin/scenarios/activate", json={"na\x00me": "x"},
                                        headers={"Accept-Language": "en"})
    assert resp.status_code == 400
    assert resp.json["error"] == "JSON body: the NUL character (\\u0000) is not allowed in a name"


def test_parameter_error_in_english_on_accept_language(app):
    resp = app.admin.test_client().get("/_admin/requests?limit=abc", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert resp.json["error"] == "parameter limit=abc: expected an integer"


def test_deeply_nested_body_is_one_sentence(app):
    body = b"<a>" * 3000 + b"</a>" * 3000
    resp = Client(app).post("/port/emdr", data=body, headers={"Content-Type": "application/soap+xml"})
    assert resp.status_code == 400
    assert "слишком глубокая вложенность элементов (строка 1, столбец" in resp.text
    assert "XML_PARSE_HUGE" not in resp.text and "Excessive depth" not in resp.text


@pytest.mark.parametrize(("number", "status"), [("MOCK:FAULT", 500), ("MOCK:HTTP:503", 503), ("MOCK:HTTP:42", 400)])
def test_journal_says_the_http_status_of_the_answer(app, number, status):
    """The journal (admin API, dashboard) records the status the client got: 500 for a SOAP Fault, 400 for a
    refused magic value, not 200."""
    doc = generate("119", seed=600 + status)
    doc.request.document_number = number
    resp = Client(app).post("/port/emdr", data=doc.envelope(), headers={"Content-Type": content_type("1.2")})
    assert resp.status_code == status
    (entry,) = app.admin.test_client().get(f"/_admin/requests?local_uid={doc.local_uid}").json["items"]
    assert entry["http_status"] == status, entry
