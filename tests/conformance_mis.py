"""A reference MIS for conformance tests, run as its own process (``python tests/conformance_mis.py``).

It does what an MIS does, over real HTTP: registers its system (callback URL of its own endpoint),
waits until a conformance run is active for it, then sends ``--docs`` generated documents one after
the other, reacting to the answers as its ``--mode`` says:

* ``good``: on RATE_LIMIT waits ``--retry-after`` seconds and re-sends the same localUid (after a SOAP
  fault, HTTP 5xx or a dropped connection, 0.3 s); acknowledges
  every callback with 200 (duplicates and unknown ones too; a broken one with 400); when no callback came within
  ``--callback-wait`` seconds, asks the registry (searchRegistryItem, then getRegistryItem).
* ``careless``: on RATE_LIMIT re-sends at once under a new localUid; answers a callback it has seen
  before with 500; crashes on a callback for a request it never sent (closes the connection without
  an answer); never asks the registry.

It prints ``READY <callback url>`` once listening, and a JSON summary line at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from mock_remd.client.answers import parse_sync_answer, post_envelope
from mock_remd.client.sink import parse_callback
from mock_remd.generator import generate
from mock_remd.soap.builders import attachment, get_item_envelope, register_envelope, search_envelope

ORG = "1.2.643.5.1.13.13.12.2.50.99999"


class Mis:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.url = args.url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False
        self.client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mis:{args.system}"))
        self.sent: set[str] = set()  # message ids of our requests
        self.seen: set[str] = set()  # relatesTo of callbacks answered
        self.results: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.got = threading.Condition(self.lock)
        self.log: list[str] = []

    # ---- the callback endpoint -------------------------------------------------------------------
    def handler(self):
        mis = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                result = parse_callback(body, self.headers.get("Content-Type", ""), self.path)
                relates = (result.relates_to or "").lower().removeprefix("urn:uuid:")
                with mis.lock:
                    known = relates in mis.sent
                    repeated = relates in mis.seen
                    mis.seen.add(relates)
                    if known:
                        mis.results.setdefault(relates, {"status": result.status, "emdr_id": result.emdr_id})
                        mis.got.notify_all()
                careless = mis.args.mode == "careless"
                if careless and not known:
                    mis.log.append(f"crash on unknown callback {relates}")
                    self.close_connection = True  # the handler dies: no answer at all
                    return
                status = 500 if careless and repeated else 200
                if not result.well_formed and not careless:
                    status = 400  # a broken callback: say so, and learn the outcome by polling later
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    # ---- sending ---------------------------------------------------------------------------------
    def send(self, req) -> tuple[str, object]:
        mid = str(uuid.uuid4())
        with self.lock:
            self.sent.add(mid)
        try:
            answer = post_envelope(self.url + "/port/emdr", register_envelope(req, message_id=mid), session=self.http,
                                   timeout=15)
        except requests.RequestException as exc:
            answer = parse_sync_answer(0, b"")
            self.log.append(f"send failed: {type(exc).__name__}")
        self.log.append(f"sent {req.local_uid} -> {answer.describe()}")
        return mid, answer

    def renamed(self, doc):
        """The same document under a new localUid, at once: the old signatures are kept (they no longer
        match the document, which the registry will find)."""
        new_uid = str(uuid.uuid4())
        content = doc.content.replace(doc.local_uid.encode(), new_uid.encode())
        return dataclasses.replace(doc.request, local_uid=new_uid, document=attachment(content))

    def wait_callback(self, mid: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while mid not in self.results:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.got.wait(left)
            return self.results[mid]

    def poll(self, req) -> None:
        criteria = {"patientSnils": req.effective_patient_snils, "kind": req.kind}
        answer = self.http.post(self.url + "/port/emdr", data=search_envelope(criteria, client_entity_id=self.client_id),
                                headers={"Content-Type": "application/soap+xml; charset=utf-8"}, timeout=15)
        self.log.append(f"searchRegistryItem -> HTTP {answer.status_code}")
        text = answer.text
        if "<emdrId>" in text or ":emdrId>" in text:
            emdr = text.split("emdrId>", 1)[1].split("<", 1)[0]
            self.http.post(self.url + "/port/emdr", data=get_item_envelope(emdr, client_entity_id=self.client_id),
                           headers={"Content-Type": "application/soap+xml; charset=utf-8"}, timeout=15)
            self.log.append(f"getRegistryItem {emdr}")

    def one_document(self, doc) -> None:
        req = doc.request
        mid, answer = self.send(req)
        tries = 0
        while not answer.accepted and tries < 3:
            tries += 1
            if "RATE_LIMIT" in answer.error_codes and self.args.mode == "good":
                time.sleep(self.args.retry_after + 0.1)
                mid, answer = self.send(req)
            elif "RATE_LIMIT" in answer.error_codes:
                req = self.renamed(doc)
                mid, answer = self.send(req)
            elif self.args.mode == "good" and (answer.fault or answer.http_status == 0 or answer.http_status >= 500):
                time.sleep(0.3)  # a transient failure (fault, 5xx, dropped connection): the same document again
                mid, answer = self.send(req)
            else:
                break
        if not answer.accepted:
            return
        if self.wait_callback(mid, self.args.callback_wait) is None and self.args.mode == "good":
            self.poll(req)

    def run(self) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        callback_url = f"http://127.0.0.1:{server.server_port}/emdr/callback"
        system = {"client_entity_id": self.client_id, "callback_url": callback_url, "organizations": [ORG]}
        self.http.put(f"{self.url}/_admin/systems/{self.args.system}", json=system, timeout=10).raise_for_status()
        docs = [generate("119", seed=self.args.seed + i, organization=ORG, client_entity_id=self.client_id,
                         system=self.args.system) for i in range(self.args.docs)]
        print(f"READY {callback_url}", flush=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the MIS's suite starts once the run is there
            runs = self.http.get(f"{self.url}/_admin/conformance/runs",
                                 params={"system": self.args.system, "state": "running"}, timeout=10).json()
            if runs["total"]:
                break
            time.sleep(0.1)
        for doc in docs:
            self.one_document(doc)
        time.sleep(self.args.linger)  # keep answering late callbacks
        print(json.dumps({"mode": self.args.mode, "log": self.log}), flush=True)
        server.shutdown()
        return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--system", required=True)
    p.add_argument("--mode", choices=("good", "careless"), required=True)
    p.add_argument("--docs", type=int, default=6)
    p.add_argument("--seed", type=int, default=100)
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--callback-wait", type=float, default=1.5)
    p.add_argument("--linger", type=float, default=4.0)
    return Mis(p.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
