"""``mock-remd send`` tells the truth (issue 13): sends what it is given, says what arrived, parallel-safe."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mock_remd.cli.main import main
from mock_remd.generator import generate
from mock_remd.server.threaded import ThreadedServer

ORIGINAL_CALLBACK = "http://127.0.0.1:9090/emdr/callback"


@pytest.fixture(scope="module")
def server():
    with ThreadedServer(callback_backoff="0.2,0.2,0.2,0.2,0.2") as srv:
        yield srv


def send(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["send", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def generated(tmp_path: Path, invalid: str, seed: int) -> tuple[Path, Path]:
    """``mock-remd generate --invalid RULE`` output: (the CDA, its .request.xml)."""
    assert main(["generate", "--kind", "119", "--invalid", invalid, "--seed", str(seed), "--out", str(tmp_path)]) == 0
    doc = next(p for p in tmp_path.glob("*.xml") if not p.name.endswith(".request.xml"))
    return doc, doc.with_name(doc.stem + ".request.xml")


@pytest.mark.parametrize(("rule", "code"), [("bad-signature-digest", "DIGEST_MISMATCH"),
                                            ("local-uid-mismatch", "VALIDATION_ERROR")])
def test_request_level_defect_is_kept(server, tmp_path, capsys, rule, code):
    doc, request = generated(tmp_path, rule, 300)
    capsys.readouterr()
    status, out, err = send(capsys, str(doc), "--url", server.url, "--system", "demo", "--wait", "20")
    assert status == 1, out + err
    assert out.startswith("отклонён:") and f"  {code}: " in out
    assert f"отправляется сгенерированный запрос {request} как есть" in err


def test_request_level_defect_with_rebuilding_options_is_refused(server, tmp_path, capsys):
    doc, request = generated(tmp_path, "missing-org-signature", 301)
    capsys.readouterr()
    status, out, err = send(capsys, str(doc), "--url", server.url, "--system", "demo", "--document-number", "42")
    assert status == 2 and out == ""
    assert "generate --invalid missing-org-signature" in err and f"mock-remd send {request}" in err


def test_a_request_envelope_is_sent_as_it_is(server, tmp_path, capsys):
    _doc, request = generated(tmp_path, "creation-date-mismatch", 302)
    capsys.readouterr()
    status, out, _ = send(capsys, str(request), "--url", server.url, "--system", "demo", "--wait", "20")
    assert status == 1 and out.startswith("отклонён:")


def _doc(tmp_path: Path, seed: int) -> Path:
    doc = generate("119", seed=seed, signer=None)
    path = tmp_path / f"{doc.local_uid}.xml"
    path.write_bytes(doc.content)
    return path


def test_malformed_callback_is_named(server, tmp_path, capsys):
    status, out, _ = send(capsys, str(_doc(tmp_path, 310)), "--url", server.url, "--system", "demo",
                          "--document-number", "MOCK:CALLBACK:MALFORMED", "--wait", "15")
    assert status == 0 and "(API администрирования," in out
    assert "получен нечитаемый обратный вызов" in out and "доставка" not in out


def test_callback_with_a_foreign_correlation_id_is_named(server, tmp_path, capsys):
    status, out, _ = send(capsys, str(_doc(tmp_path, 311)), "--url", server.url, "--system", "demo",
                          "--document-number", "MOCK:CALLBACK:WRONG_RELATES_TO", "--wait", "15")
    assert "получен обратный вызов с чужим идентификатором" in out
    assert "не поставил" not in out


def test_no_callback_queued_is_said(server, tmp_path, capsys):
    status, out, _ = send(capsys, str(_doc(tmp_path, 312)), "--url", server.url, "--system", "demo",
                          "--document-number", "MOCK:CALLBACK:NEVER", "--wait", "15")
    assert status == 0 and "мок не поставил его в очередь для этого запроса" in out


def test_a_late_callback_does_not_retry_the_closed_port(server, tmp_path, capsys):
    path = _doc(tmp_path, 330)
    status, out, err = send(capsys, str(path), "--url", server.url, "--system", "demo",
                            "--document-number", "MOCK:CALLBACK:DELAY:3000", "--wait", "1")
    assert status == 2 and out.startswith("ответа нет:"), out + err
    deadline = time.monotonic() + 15
    rows: list = []
    while not rows and time.monotonic() < deadline:  # the delivery is queued once the document is processed
        rows, _ = server.runtime.store.outbox.list(local_uid=path.stem)
        time.sleep(0.1)
    assert rows, (out, server.runtime.store.documents.get(path.stem), server.runtime.store.outbox.list(limit=3))
    assert all(d.url == ORIGINAL_CALLBACK for d in rows)  # not the closed temporary port


def test_parallel_sends_each_get_their_own_callback(server, tmp_path):
    docs = [_doc(tmp_path, 320 + i) for i in range(4)]

    def one(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mock_remd", "send", str(path), "--url", server.url,
                               "--system", "demo", "--wait", "30"], capture_output=True, text=True, timeout=90)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, docs))
    for path, proc in zip(docs, results, strict=True):
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"localUid {path.stem} (обратный вызов," in proc.stdout, proc.stdout
    system = server.runtime.store.systems.get("demo")
    assert system.callback_url == ORIGINAL_CALLBACK
