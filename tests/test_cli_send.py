"""``mock-remd send`` against a live server: outcomes, exit statuses, output formats, callback redirection."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from lxml import etree

from mock_remd.cli.main import main
from mock_remd.generator import generate
from mock_remd.server.threaded import ThreadedServer
from mock_remd.signing.testkeys import test_doctor

ORIGINAL_CALLBACK = "http://127.0.0.1:9090/emdr/callback"


@pytest.fixture(scope="module")
def server():
    """A real server with every document layer the machine can run (no packs), demo system built in."""
    with ThreadedServer(callback_backoff="0.2,0.2") as srv:
        yield srv


@pytest.fixture
def doc_file(tmp_path: Path):
    def write(seed: int, invalid: str | None = None) -> tuple[Path, str]:
        doc = generate("119", seed=seed, invalid=invalid, signer=None)
        path = tmp_path / f"{doc.local_uid}.xml"
        path.write_bytes(doc.content)
        return path, doc.local_uid
    return write


def send(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["send", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def demo_callback(server: ThreadedServer) -> str:
    return server.runtime.store.systems.get("demo").callback_url


def test_valid_document_is_registered_via_the_callback(server, doc_file, capsys):
    path, local_uid = doc_file(101)
    code, out, err = send(capsys, str(path), "--url", server.url, "--system", "demo", "--wait", "20")
    assert code == 0, out + err
    assert out.startswith("зарегистрирован: emdrId 1.50.")
    assert f"localUid {local_uid} (обратный вызов," in out
    assert not re.search(r"\b(registered|callback|rejected|accepted|no answer)\b", out)
    assert "mock-remd send: жду обратный вызов на http://127.0.0.1:" in err
    assert demo_callback(server) == ORIGINAL_CALLBACK  # restored after the run
    assert server.runtime.store.documents.get(local_uid).status == "registered"


def test_json_output(server, doc_file, capsys):
    path, local_uid = doc_file(102)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo", "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["exit_code"] == 0
    assert result["result"] == "registered" and result["source"] == "callback"
    assert result["local_uid"] == local_uid and result["emdr_id"].startswith("1.50.")
    assert result["errors"] == []


def test_document_rejected_in_the_callback(server, doc_file, capsys):
    path, _ = doc_file(103)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo", "--kind", "186")
    assert code == 1
    assert out.startswith("отклонён: localUid")
    assert "(обратный вызов," in out
    assert "\n  VALIDATION_ERROR: " in out


def test_synchronous_error_is_a_rejection(server, doc_file, capsys):
    path, _ = doc_file(104, invalid="snils-checksum")  # the bad SNILS goes into the request as well
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo")
    assert code == 1
    assert "(синхронный ответ" in out
    assert "  VALIDATION_ERROR: " in out


def test_magic_sync_error_code_is_printed(server, doc_file, capsys):
    path, _ = doc_file(105)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo",
                        "--document-number", "MOCK:SYNC:RATE_LIMIT")
    assert code == 1
    assert "  RATE_LIMIT: " in out


def test_no_listen_polls_the_admin_api(server, doc_file, capsys):
    path, _ = doc_file(106)
    code, out, err = send(capsys, str(path), "--url", server.url, "--system", "demo", "--no-listen", "--lang", "en")
    assert code == 0
    assert "(admin API," in out and out.startswith("registered: emdrId 1.50.")
    assert "waiting up to 30 s for the result (admin API)" in err
    assert not re.search("[а-яё]", out + err, re.IGNORECASE)


def test_callback_that_never_comes_falls_back_to_the_registry(server, doc_file, capsys):
    path, _ = doc_file(107)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo",
                        "--document-number", "MOCK:CALLBACK:NEVER", "--wait", "10")
    assert code == 0
    assert "(API администрирования," in out
    assert "обратный вызов не получен" in out


def test_timeout_is_no_answer(server, doc_file, capsys):
    path, _ = doc_file(108)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo",
                        "--document-number", "MOCK:CALLBACK:DELAY:4000", "--wait", "1")
    assert code == 2
    assert out.startswith("ответа нет: localUid")
    assert "результата нет за 1 с" in out


def test_wait_zero_reports_acceptance_only(server, doc_file, capsys):
    path, _ = doc_file(109)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo", "--wait", "0")
    assert code == 0  # its help says: 0 = report acceptance only
    assert out.startswith("принят: localUid") and "принят к обработке" in out


@pytest.mark.parametrize("how", ["garbage", "reset", "close"])
def test_dropped_connection_is_one_sentence(server, doc_file, capsys, how):
    """A connection the server drops gives our sentence, never the HTTP library's ('Connection aborted.',
    BadStatusLine(…)) (issue 13)."""
    path, _ = doc_file(120)
    code, out, err = send(capsys, str(path), "--url", server.url, "--system", "demo",
                          "--document-number", f"MOCK:DROP:{how}")
    where = server.url.removeprefix("http://")
    assert code == 2 and out.startswith("ответа нет: localUid"), out + err
    assert f"(сервер {where} разорвал соединение, не ответив)" in out
    code, out, err = send(capsys, str(path), "--url", server.url, "--system", "demo", "--lang", "en",
                          "--document-number", f"MOCK:DROP:{how}")
    assert code == 2 and f"(the server at {where} closed the connection without an answer)" in out, out + err
    for words in ("Connection aborted", "BadStatusLine", "RemoteDisconnected", "ProtocolError", "Errno"):
        assert words not in out + err


def test_own_key_whose_certificate_names_another_doctor_is_rejected(server, doc_file, capsys, tmp_path):
    path, _ = doc_file(110)
    ident = test_doctor()
    (tmp_path / "k.pem").write_bytes(ident.key_pem)
    (tmp_path / "c.pem").write_bytes(ident.cert_pem)
    code, out, _ = send(capsys, str(path), "--url", server.url, "--system", "demo",
                        "--key", str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem"))
    assert code == 1
    assert "  VALUE_MISMATCH_METADATA_AND_CERTIFICATE: " in out


def test_dry_run_prints_a_complete_request(doc_file, capsys):
    path, local_uid = doc_file(111)
    code, out, _ = send(capsys, str(path), "--url", "http://127.0.0.1:1", "--system", "demo",
                        "--client-entity-id", "00000000-0000-4000-8000-000000000001", "--dry-run")
    assert code == 0
    root = etree.fromstring(out.strip().encode())
    ns = {"ser": "http://egisz.rosminzdrav.ru/iehr/emdr/service/"}
    assert root.findtext(".//ser:localUid", namespaces=ns) == local_uid
    assert root.findtext(".//ser:kind", namespaces=ns) == "119"
    assert root.findtext(".//ser:organization", namespaces=ns) == "1.2.643.5.1.13.13.12.2.50.99999"
    data = base64.b64decode(root.findtext(".//ser:document/ser:data", namespaces=ns))
    assert data == path.read_bytes()
    assert root.findtext(".//ser:document/ser:checksum", namespaces=ns) == str(zlib.crc32(data) & 0xFFFFFFFF)
    assert len(root.findall(".//ser:personalSign/ser:signature/ser:data", namespaces=ns)) >= 1
    assert root.find(".//ser:orgSignature", namespaces=ns) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv, message", [
    (["missing.xml"], "нет такого файла"),
    (["{notxml}"], "n.xml: документ — не корректный XML: документ не начинается с элемента (строка 1"),
    (["{doc}", "--key", "{doc}"], "mock-remd send: --key и --cert указываются вместе\n"),
    (["{doc}", "--url", "ftp://x"], "--url ftp://x: нужен адрес http:// или https://"),
])
def test_bad_input_exits_2(argv, message, doc_file, tmp_path, capsys):
    path, _ = doc_file(112)
    notxml = tmp_path / "n.xml"
    notxml.write_text("not xml")
    args = [a.format(doc=path, notxml=notxml) for a in argv]
    if "--url" not in args:
        args += ["--url", f"http://127.0.0.1:{_free_port()}"]
    code, _, err = send(capsys, *args, "--system", "demo")
    assert code == 2
    assert message in err


def test_unknown_system_and_unreachable_server_exit_2(server, doc_file, capsys):
    path, _ = doc_file(113)
    code, _, err = send(capsys, str(path), "--url", server.url, "--system", "nosuch")
    assert code == 2 and f"системы 'nosuch' на {server.url} нет" in err
    code, _, err = send(capsys, str(path), "--url", f"http://127.0.0.1:{_free_port()}", "--system", "demo")
    port = _free_port()
    code, _, err = send(capsys, str(path), "--url", f"http://127.0.0.1:{port}", "--system", "demo")
    assert code == 2 and err.strip() == f"mock-remd send: сервер 127.0.0.1:{port} отказал в соединении"
    code, out, _ = send(capsys, str(path), "--url", f"http://127.0.0.1:{port}", "--system", "demo",
                        "--client-entity-id", "00000000-0000-4000-8000-000000000001", "--no-listen", "--lang", "en")
    assert code == 2 and f"the server at 127.0.0.1:{port} refused the connection" in out
    assert "HTTPConnectionPool" not in out + err and "Max retries" not in out + err


def test_console_script(server, doc_file):
    """The installed entry point, as a developer types it."""
    path, _ = doc_file(114)
    proc = subprocess.run([str(Path(sys.executable).with_name("mock-remd")), "send", str(path), "--url", server.url,
                           "--system", "demo"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("зарегистрирован: emdrId ")


def test_new_version_sent_with_its_association(server, doc_file, capsys, tmp_path):
    """generate --version-of + send --association: v2 replaces v1; replacing v1 again is refused."""
    path, v1_uid = doc_file(150)
    code, out, err = send(capsys, str(path), "--url", server.url, "--system", "demo", "--wait", "20")
    assert code == 0, out + err
    emdr1 = out.split("emdrId ", 1)[1].split(",", 1)[0]
    versions = []
    for n in range(2):
        out_dir = tmp_path / f"v2-{n}"
        assert main(["generate", "--version-of", str(path), "--emdr-id", emdr1, "--unsigned", "--out", str(out_dir)]) == 0
        capsys.readouterr()
        versions.append(next(p for p in out_dir.iterdir() if not p.name.endswith(".request.xml")))
    code, out, err = send(capsys, str(versions[0]), "--url", server.url, "--system", "demo", "--wait", "20",
                          "--association", emdr1)
    assert code == 0 and out.startswith("зарегистрирован:"), out + err
    code, out, err = send(capsys, str(versions[1]), "--url", server.url, "--system", "demo", "--wait", "20",
                          "--association", f"{v1_uid}=RPLC", "--format", "json")
    assert code == 1, out + err
    result = json.loads(out)
    assert [e["code"] for e in result["errors"]] == ["NOT_UNIQUE_ASSOCIATION"]
