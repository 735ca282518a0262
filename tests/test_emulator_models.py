"""The emulator's pieces without HTTP: the lifecycle as a pure function, clocks, scenarios, the CLI."""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_fc_invocation.testing import (
    FcEmulator,
    RealClock,
    ScenarioError,
    Script,
    Step,
    VirtualClock,
    lifecycle,
)
from pulumi_fc_invocation.testing.models import EmulatorError, FcBackend, parse_directive

from _emulator_cli import serving


def test_script_timeline():
    assert Script(duration=2).timeline() == (Step("Enqueued", 0), Step("Running", 0, "attempt 1"), Step("Succeeded", 2))
    steps = Script(outcome="Failed", duration=1, queue_delay=1, retries=1, retry_delay=2, error_message="E").timeline()
    assert [(s.status, s.at) for s in steps] == [("Enqueued", 0), ("Running", 1), ("Retrying", 2), ("Running", 4),
                                                 ("Failed", 5)]
    assert [s.status for s in Script(outcome="Stopped").timeline()][-2:] == ["Stopping", "Stopped"]
    assert [s.status for s in Script(outcome="Running").timeline()] == ["Enqueued", "Running"]
    assert [s.status for s in Script(outcome="Enqueued").timeline()] == ["Enqueued"]
    for bad in [dict(outcome="Done"), dict(duration=-1), dict(retries=1.5), dict(duration=float("inf"))]:
        with pytest.raises(ValueError):
            Script(**bad)


def test_lifecycle_is_pure_and_handles_stop():
    steps = Script(duration=10).timeline()
    assert lifecycle(steps, 100.0, 105.0) == lifecycle(steps, 100.0, 105.0)
    assert [e[0] for e in lifecycle(steps, 100.0, 99.0)] == ["Enqueued"]  # seeded in the future
    stopped = lifecycle(steps, 100.0, 200.0, stopped_at=103.0, stop_delay=1.0)
    assert [(s, t) for s, t, _ in stopped] == [("Enqueued", 100), ("Running", 100), ("Stopping", 103),
                                               ("Stopped", 104)]
    assert lifecycle(steps, 100.0, 103.5, stopped_at=103.0, stop_delay=1.0)[-1][0] == "Stopping"


@settings(max_examples=60, deadline=None)
@given(outcome=st.sampled_from(["Succeeded", "Failed", "Stopped", "Expired", "Invalid", "Running"]),
       duration=st.floats(0, 100), queue=st.floats(0, 100), retries=st.integers(0, 4),
       times=st.lists(st.floats(0, 1000), min_size=2, max_size=8))
def test_lifecycle_properties(outcome, duration, queue, retries, times):
    backend = FcBackend(VirtualClock(1_000_000.0))
    fn = backend.add_function("s", "f", script=Script(outcome=outcome, duration=duration, queue_delay=queue,
                                                      retries=retries))
    inv = backend._create(fn, None, "i", "", fn.script, fn.script.timeline(), 1_000_000.0, None)
    previous = None
    for t in sorted(times):
        state = inv.state(1_000_000.0 + t)
        events = [e.status for e in state.events]
        assert events[0] == "Enqueued" and events[-1] == state.status
        assert [e.timestamp_ms for e in state.events] == sorted(e.timestamp_ms for e in state.events)
        assert state.already_retried_times == events.count("Retrying") <= retries
        assert (state.end_time != 0) == state.is_terminal
        if previous is not None:
            assert [e.status for e in previous.events] == events[:len(previous.events)]  # history only grows
            if previous.is_terminal:
                assert state == previous
        previous = state
    final = inv.state(1_000_000.0 + 10_000)
    assert final.status == outcome if outcome != "Running" else final.status == "Running"


def test_backend_errors_and_directive():
    backend = FcBackend(VirtualClock())
    backend.add_function("s", "f", qualifiers=["prod"])
    with pytest.raises(EmulatorError) as err:
        backend.get_invocation("s", "prod", "f", "x")
    assert err.value.code == "StatefulAsyncInvocationNotFound"
    with pytest.raises(ValueError):
        backend.add_function("9bad", "f")
    with pytest.raises(ValueError):
        backend.add_invocation("s", "f", "i", timeline=[("Running", 2), ("Enqueued", 1)])
    assert parse_directive("not json") is None and parse_directive('{"a": 1}') is None
    assert parse_directive('{"fcEmulator": {"status": "Failed", "after": 2}}') == {"outcome": "Failed", "duration": 2}
    with pytest.raises(EmulatorError):
        parse_directive('{"fcEmulator": "Failed"}')


def test_virtual_clock():
    clock = VirtualClock(start=1000.0)
    assert clock.now() == 1000.0 and clock.now_ms() == 1_000_000
    assert clock.advance(1.5) == 1001.5
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.set(10.0) == 10.0
    threads = [threading.Thread(target=lambda: [clock.advance(0.5) for _ in range(1000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == 2010.0
    assert VirtualClock().now() == int(VirtualClock().now())
    with pytest.raises(TypeError):
        RealClock().advance(1)


SCENARIO = {
    "functions": [{"service": "video", "function": "transcode", "qualifiers": ["LATEST", "prod", "3"],
                   "duration": 5, "returnPayload": "ok"}],
    "invocations": [
        {"service": "video", "function": "transcode", "invocationId": "job-1", "qualifier": "prod",
         "timeline": [["Enqueued", 0], ["Running", 1], ["Succeeded", 5]], "payload": "{}", "startedAgo": 60},
        {"service": "video", "function": "transcode", "invocationId": "job-2", "outcome": "Failed",
         "errorMessage": "Boom", "retries": 1, "startedAt": "2020-08-20T02:28:21Z"},
        {"service": "other", "function": "fn", "invocation_id": "job-3", "started_at": 1597890501000},
    ],
    "credentials": [{"accessKeyId": "STS.tmp", "accessKeySecret": "s3", "securityToken": "t"}],
    "retention": None,  # job-2 and job-3 started in 2020: FC would have forgotten them
}


def test_scenario_from_dict_and_file(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(SCENARIO))
    for source in (SCENARIO, str(path)):
        with FcEmulator(clock="virtual", scenario=source) as fc:
            assert fc.get_invocation("video", "transcode", "job-1").status == "Succeeded"
            failed = fc.get_invocation("video", "transcode", "job-2")
            assert (failed.status, failed.invocation_error_message, failed.already_retried_times) == ("Failed", "Boom", 1)
            assert failed.started_time == 1597890501000
            assert fc.get_invocation("other", "fn", "job-3").started_time == 1597890501000
            with fc.client(max_retries=0) as c:
                assert c.get_stateful_async_invocation("video", "transcode", "job-1", "prod").return_payload == "ok"
            assert "STS.tmp" in fc.keys.key_ids()


@pytest.mark.parametrize("bad, message", [
    ({"funcs": []}, "unknown top-level"),
    ({"functions": [{"service": "s"}]}, "missing"),
    ({"functions": [{"service": "s", "function": "f", "duratoin": 1}]}, "duratoin"),
    ({"invocations": [{"service": "s", "function": "f", "invocationId": "i", "timeline": [["Running"]]}]},
     r"invocations\[0\]: timeline"),
    ({"invocations": [{"service": "s", "function": "f", "invocationId": "i"},
                      {"service": "s", "function": "f", "invocationId": "i"}]}, "already exists"),
])
def test_scenario_errors(bad, message):
    with pytest.raises(ScenarioError, match=message):
        FcEmulator(scenario=bad)


def test_scenario_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        FcEmulator(scenario=str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        FcEmulator(scenario=str(tmp_path / "bad.json"))


def test_cli_runs_until_sigterm(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(SCENARIO))
    with serving("--port", "0", "--scenario", str(scenario), "--quiet") as served:
        text = "".join(served.lines)
        env = served.env
        endpoint = env["FC_INVOCATION_ENDPOINT"]
        assert endpoint.startswith("http://127.0.0.1:") and endpoint in text
        assert env["ALIBABA_CLOUD_ACCOUNT_ID"] == "1234567890123456"
        from pulumi_fc_invocation import FcClient

        with FcClient(environ={k: v.strip("'") for k, v in env.items()}, max_retries=0) as c:
            assert c.get_stateful_async_invocation("video", "transcode", "job-1").succeeded
    assert "stopped" in served.proc.stdout.read()


def test_cli_does_not_echo_a_given_secret_and_reports_bad_port(capsys):
    from pulumi_fc_invocation.testing.emulator_cli import main

    with FcEmulator() as busy:
        assert main(["--port", str(busy.port), "--access-key-secret", "my-own-secret"]) == 2
    out = capsys.readouterr()
    assert "cannot listen" in out.err and "my-own-secret" not in out.out + out.err
    assert main(["--port", "0", "--scenario", "/nonexistent.json"]) == 2
