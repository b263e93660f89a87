"""The pytest plugin in a project of its own (pytester): fixtures, reset, wait_for, external mode, guard."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import requests  # noqa: F401 - see below

from mock_remd.server.threaded import ThreadedServer
from mock_remd.testing.guard import RealHostGuard, RealRegistryAccessError, is_real_registry_host

pytest_plugins = ["pytester"]

# pytester's in-process runs forget the modules first imported during them. requests is loaded here,
# before them, as a user's test session has it loaded (the server no longer imports it on start: its
# HTTP role never sends): a copy imported inside one inner run and forgotten after it left the next
# runs with two http.cookiejar classes ("You can only merge into CookieJar").

FIXTURES_AND_RESET = '''
import requests
from mock_remd.generator import generate

def test_addresses(remd, remd_server):
    assert remd.internal is True
    assert requests.get(remd.url + "/health").json() == {"status": "ok"}
    wsdl = requests.get(remd.wsdl_url)
    assert wsdl.status_code == 200 and b"registerDocument" in wsdl.content
    demo = remd.admin.system("demo")
    assert demo["callback_url"] == remd.callbacks.url

def test_a_registers_valid(remd):
    doc = generate("119", seed=3)
    mid = remd.register(doc)
    res = remd.callbacks.wait_for(mid, timeout=20)
    assert res.status == "success", res.errors
    assert res.emdr_id.startswith("1.50.")
    assert res.relates_to == mid and res.raw.startswith(b"<?xml")
    assert remd.document(doc.local_uid)["status"] == "registered"

def test_b_sees_a_clean_registry(remd):
    assert remd.admin.requests() == []
    assert remd.admin.documents() == []
    assert remd.callbacks.results == []

def test_c_rejected_document(remd):
    doc = generate("119", seed=4, invalid="doctor-snils-mismatch")
    res = remd.callbacks.wait_for(remd.register(doc), timeout=20)
    assert res.status == "error"
    assert "LEGAL_AUTHENTICATOR_NOT_FOUND" in [e["code"] for e in res.errors]
    assert all(e["message"] for e in res.errors)

def test_d_sync_error_raises(remd):
    import pytest
    from mock_remd.testing.handle import RegisterRejected
    doc = generate("119", seed=5, client_entity_id="11111111-1111-4111-8111-111111111111")
    with pytest.raises(RegisterRejected) as info:
        remd.register(doc)
    assert info.value.answer.error_codes == ["NO_RMIS"]
    assert remd.register(doc, check=False)

def test_e_wait_for_times_out_with_a_hint(remd):
    import pytest
    with pytest.raises(TimeoutError, match="no request with this MessageID"):
        remd.callbacks.wait_for("00000000-0000-4000-8000-00000000abcd", timeout=0.2)
'''


def test_fixtures_reset_and_wait_for(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(FIXTURES_AND_RESET)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=6)


def test_the_readme_example_runs_as_written(pytester: pytest.Pytester) -> None:
    """The pytest plugin section of README.md, copied word for word into a project of its own."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## pytest plugin"):]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None
    pytester.makepyfile(test_readme_example=example.group(1))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_remd_settings_ini_reaches_the_in_process_server(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nremd_settings =\n    validation=none\n    region=77\n")
    pytester.makepyfile('''
        import requests
        def test_settings(remd):
            details = requests.get(remd.url + "/ready").json()["details"]
            assert details["validation_layers"] == []
            from mock_remd.generator import generate
            res = remd.callbacks.wait_for(remd.register(generate("119", seed=1)), timeout=20)
            assert res.emdr_id.startswith("1.77.")
    ''')
    pytester.runpytest_inprocess("-q").assert_outcomes(passed=1)


def test_external_url_mode(pytester: pytest.Pytester) -> None:
    """--remd-url: the fixtures drive a server started here; the demo callback is pointed at the sink."""
    with ThreadedServer(validation="none") as server:
        pytester.makepyfile('''
            from mock_remd.generator import generate

            def test_external(remd, remd_server):
                assert remd.internal is False
                assert remd.url == remd_server.url
                assert remd.admin.system("demo")["callback_url"] == remd.callbacks.url
                assert remd.callbacks.url.startswith("http://127.0.0.1:")
                res = remd.callbacks.wait_for(remd.register(generate("186", seed=2)), timeout=20)
                assert res.status == "success"

            def test_reset_between(remd):
                assert remd.admin.documents() == []
        ''')
        result = pytester.runpytest_inprocess("-q", f"--remd-url={server.url}")
        result.assert_outcomes(passed=2)
        # the external server really was used: its demo system now calls the pytester sink back
        demo = server.runtime.store.systems.get("demo")
        assert demo.callback_url.startswith("http://127.0.0.1:")
        assert demo.callback_url != "http://127.0.0.1:9090/emdr/callback"


def test_external_url_from_environment_and_callback_host(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with ThreadedServer(validation="none") as server:
        monkeypatch.setenv("MOCK_REMD_URL", server.url)
        pytester.makepyfile('''
            def test_env(remd):
                assert remd.internal is False
                assert remd.callbacks.url.startswith("http://remd-tests.example:")
        ''')
        result = pytester.runpytest_inprocess("-q", "--remd-callback-host=remd-tests.example")
        result.assert_outcomes(passed=1)


def test_external_url_not_ready_fails_clearly(pytester: pytest.Pytester) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pytester.makepyfile("def test_x(remd):\n    pass\n")
    result = pytester.runpytest_inprocess("-q", f"--remd-url=http://127.0.0.1:{port}", "--remd-ready-timeout=0.3")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*is not ready after*"])


GUARD = '''
import socket
import pytest
import requests

def test_swallowed_real_call():
    try:
        requests.get("https://ips.rosminzdrav.ru/57ab2a2e8e8e4", timeout=1)
    except Exception:
        pass  # an MIS that hides connection errors must still fail the test

def test_zeep_like_resolution():
    socket.getaddrinfo("r78-rc.zdrav.egisz.rosminzdrav.ru", 443)

@pytest.mark.remd_allow_real_hosts
def test_opt_out():
    assert socket.getaddrinfo.__module__ == "socket"

def test_local_is_fine():
    assert socket.getaddrinfo("127.0.0.1", 80)
'''


@pytest.mark.remd_allow_real_hosts  # the inner run's guard is under test, not this one's
def test_guard_fails_tests_that_reach_real_hosts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GUARD)
    result = pytester.runpytest_inprocess("-q")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        "*the test tried to reach the real registry (ips.rosminzdrav.ru)*",
        "*blocked a connection to the real registry host 'r78-rc.zdrav.egisz.rosminzdrav.ru'*remd.url*",
    ])


@pytest.mark.remd_allow_real_hosts  # the inner run's guard is under test, not this one's
def test_guard_off_by_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nremd_block_real_hosts = false\nremd_blocked_hosts =\n    example.test\n")
    pytester.makepyfile('''
        import socket
        def test_not_wrapped():
            assert socket.getaddrinfo.__module__ == "socket"
    ''')
    pytester.runpytest_inprocess("-q").assert_outcomes(passed=1)


@pytest.mark.remd_allow_real_hosts  # the inner run's guard is under test, not this one's
def test_guard_extra_domains_from_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nremd_blocked_hosts =\n    *.emias.example\n")
    pytester.makepyfile('''
        import socket, pytest
        def test_blocked():
            with pytest.raises(ConnectionRefusedError, match="emias.example"):
                socket.getaddrinfo("api.emias.example", 443)
    ''')
    result = pytester.runpytest_inprocess("-q")
    result.assert_outcomes(failed=1)  # blocked, and the attempt fails the test even though it was caught
    result.stdout.fnmatch_lines(["*api.emias.example*"])


@pytest.mark.parametrize(("host", "blocked"), [
    ("ips.rosminzdrav.ru", True),
    ("IPS-TEST.rosminzdrav.ru.", True),
    ("nsi.rosminzdrav.ru", True),
    ("r50.zdrav.egisz.rosminzdrav.ru", True),
    ("emias.mosreg.ru", True),
    ("api.emias.mosreg.ru", True),
    ("lk.rt-eu.ru", True),
    ("rosminzdrav.ru.example.com", False),
    ("notrosminzdrav.ru", False),
    ("127.0.0.1", False),
    (("ips.rosminzdrav.ru", 443), False),
])
def test_host_matching(host: object, blocked: bool) -> None:
    assert is_real_registry_host(host) is blocked


@pytest.mark.remd_allow_real_hosts  # the inner run's guard is under test, not this one's
def test_guard_blocks_socket_connect_and_restores() -> None:
    original = socket.getaddrinfo
    with RealHostGuard() as guard:
        s = socket.socket()
        try:
            with pytest.raises(RealRegistryAccessError, match="ips.rosminzdrav.ru"):
                s.connect(("ips.rosminzdrav.ru", 443))
            with pytest.raises(RealRegistryAccessError):
                s.connect_ex(("emias.mosreg.ru", 443))
        finally:
            s.close()
        assert guard.attempts == ["ips.rosminzdrav.ru", "emias.mosreg.ru"]
    assert socket.getaddrinfo is original
    assert socket.getaddrinfo.__module__ == "socket"


def test_scenarios_by_marker_and_method_are_reset_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile('''
        import pytest
        from mock_remd.generator import generate
        from mock_remd.testing.handle import RegisterRejected

        @pytest.mark.remd_scenario("registry-down-503")
        def test_a_marker(remd):
            with pytest.raises(RegisterRejected) as info:
                remd.register(generate("119", seed=1))
            assert info.value.answer.http_status == 503

        def test_b_method(remd):
            remd.use_scenario("callback-duplicate")
            mid = remd.register(generate("119", seed=2))
            assert [r.relates_to for r in remd.callbacks.wait_count(2, timeout=20)] == [mid, mid]

        def test_c_back_to_normal(remd):
            mid = remd.register(generate("119", seed=3))
            assert remd.callbacks.wait_for(mid, timeout=20).status == "success"
    ''')
    pytester.runpytest_inprocess("-q").assert_outcomes(passed=3)


def test_callback_host_detection() -> None:
    from mock_remd.client.network import detect_callback_host, is_loopback, route_address, seen_address

    with ThreadedServer(validation="none") as server:
        assert seen_address(server.url) == "127.0.0.1"  # what /ready reports having seen
        assert detect_callback_host(server.url) == "127.0.0.1"
    assert is_loopback("localhost") and is_loopback("::1") and not is_loopback("10.0.0.1")
    assert route_address("127.0.0.1", 80) == "127.0.0.1"
