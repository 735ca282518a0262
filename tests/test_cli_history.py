"""``fc-invocation wait`` and ``wait-batch`` with the duration-aware schedule (the function's recent runs,
one list call), run in-process under the emulator's virtual clock (the ``fc_emulator`` fixture): a
seeded history, a refused list call, ``--no-history``, both APIs, and the batch's per-poll cost."""

from __future__ import annotations

import json
import random

SERVICE, FUNCTION = "svc", "job"
DURATION_AWARE = ("polling duration-aware (from the function's recent runs), at most 5m00s apart before the likely "
                  "end; without a history every 1s up to 45s")


def seed_history(fc, durations, service=SERVICE, function=FUNCTION, prefix="past-"):
    """Past Succeeded runs of the function with these durations, all ended before now."""
    start = fc.clock.now() - max(durations) - 100
    for i, duration in enumerate(durations):
        fc.add_invocation(service, function, f"{prefix}{i}", duration=float(duration), started_at=start + i * 0.001)


def tight(n=40, around=600.0, seed=7):
    rng = random.Random(seed)
    return [around * rng.lognormvariate(0, 0.1) for _ in range(n)]


def test_wait_reads_the_history_once_and_notices_the_end_within_seconds(fc_emulator, cli):
    seed_history(fc_emulator, tight())
    fc_emulator.add_invocation(SERVICE, FUNCTION, "now", duration=610.0)
    started = fc_emulator.clock.now()
    code, out, err = cli("wait", f"{SERVICE}/{FUNCTION}/now", "--timeout", "2h", "-v")
    assert code == 0, err
    assert f"invocation {SERVICE}/{FUNCTION}/now Succeeded after" in out
    assert f"waiting for {SERVICE}/{FUNCTION}/now: timeout 2h00m00s, {DURATION_AWARE}, fail on " in err
    lists = [r for r in fc_emulator.requests if r.route == "list"]
    assert len(lists) == 1 and lists[0].query["status"] == "Succeeded"
    assert fc_emulator.clock.now() - started - 610 < 8  # dense around the likely end
    gets = fc_emulator.request_count("get")
    assert f"{SERVICE}/{FUNCTION}/now: duration-aware schedule, {gets} reads, 1 history list call" in err
    assert gets <= 610 / 5 / 3  # about a quarter of fixed 5 s polling


def test_no_history_polls_on_the_fixed_schedule_without_a_list_call(fc_emulator, cli):
    seed_history(fc_emulator, tight())
    fc_emulator.add_invocation(SERVICE, FUNCTION, "now", duration=610.0)
    code, out, err = cli("wait", f"{SERVICE}/{FUNCTION}/now", "--timeout", "2h", "--no-history", "-v")
    assert code == 0, err
    assert "timeout 2h00m00s, polling every 1s up to 45s, fail on " in err and "duration-aware" not in err.split("\n")[0]
    assert fc_emulator.request_count("list") == 0
    assert f"{SERVICE}/{FUNCTION}/now: default schedule, " in err and "0 history list calls" in err


def test_a_refused_list_still_waits_on_the_default_schedule(fc_emulator, cli):
    fc_emulator.add_function(SERVICE, FUNCTION, duration=120)
    fc_emulator.client().invoke_async(SERVICE, FUNCTION, "{}", invocation_id="now")
    fc_emulator.inject_fault("list", 403, "AccessDenied", times=1)  # a RAM policy without the list action
    code, out, err = cli("wait", f"{SERVICE}/{FUNCTION}/now", "--timeout", "1h", "-v")
    assert code == 0, err
    assert "Succeeded" in out
    assert (f"duration history of {SERVICE}/{FUNCTION} unavailable (AuthenticationError AccessDenied): "
            "default schedule") in err
    assert [r.status for r in fc_emulator.requests if r.route == "list"] == [403]
    assert f"{SERVICE}/{FUNCTION}/now: default schedule, " in err


def test_a_refused_list_is_silent_without_verbose(fc_emulator, cli):
    fc_emulator.add_function(SERVICE, FUNCTION, duration=30)
    fc_emulator.client().invoke_async(SERVICE, FUNCTION, "{}", invocation_id="now")
    fc_emulator.inject_fault("list", 403, "AccessDenied", times=1)
    code, out, err = cli("wait", f"{SERVICE}/{FUNCTION}/now")
    assert code == 0 and "Succeeded" in out
    assert "AccessDenied" not in err and "history" not in err.replace("without a history", "")


def test_fc3_wait_reads_the_tasks_history(fc_emulator, cli):
    fc_emulator.add_function(None, "render")
    seed_history(fc_emulator, tight(around=300.0), service=None, function="render")
    fc_emulator.add_invocation(None, "render", "now", duration=305.0)
    code, out, err = cli("wait", "render/now", "--timeout", "1h", "-v")
    assert code == 0, err
    assert "task render/now Succeeded after" in out
    lists = [r for r in fc_emulator.requests if r.route == "list"]
    assert len(lists) == 1 and lists[0].api == "2023-03-30"
    assert "render/now: duration-aware schedule" in err


# --- wait-batch ----------------------------------------------------------------------------------


def start_batch(fc, n=3, duration=5.0, prefix="wb-"):
    client = fc.client()
    for i in range(1, n + 1):
        client.invoke_async(SERVICE, FUNCTION, "{}", invocation_id=f"{prefix}{i}")
    client.invoke_async(SERVICE, FUNCTION, "{}", invocation_id="other-9")  # outside the batch


def test_wait_batch_one_list_call_per_poll(fc_emulator, cli):
    fc_emulator.add_function(SERVICE, FUNCTION, duration=5.0)
    start_batch(fc_emulator)
    code, out, err = cli("wait-batch", f"{SERVICE}/{FUNCTION}", "--prefix", "wb-", "--poll-interval", "0.2s",
                         "--no-history", "-o", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] == 3 and data["all_succeeded"] and data["complete"]
    # One call per page (a page holds 100) per poll, plus one full listing that confirms the end.
    assert data["polls"] >= 20, data  # 5 s at 0.2 s
    assert fc_emulator.request_count("list") == data["list_calls"] == data["polls"] + 1
    assert data["history_calls"] == 0 and data["schedule"] == "default"
    assert err.startswith(f"waiting for batch {SERVICE}/{FUNCTION} prefix wb-: timeout 30m00s, polling every 200ms "
                          "up to 45s, fail on Failed, Stopped, Expired, Invalid\n")
    assert err.splitlines()[-1].endswith(f"({data['polls']} polls, {data['list_calls']} list calls)")


def test_wait_batch_with_a_seeded_history_reads_it_once(fc_emulator, cli):
    fc_emulator.add_function(SERVICE, FUNCTION, duration=600.0)
    seed_history(fc_emulator, tight())
    start_batch(fc_emulator)
    started = fc_emulator.clock.now()
    code, out, err = cli("wait-batch", f"{SERVICE}/{FUNCTION}", "--prefix", "wb-", "--timeout", "2h", "-o", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["all_succeeded"] and data["schedule"] == "duration-aware" and data["history_calls"] == 1
    history = [r for r in fc_emulator.requests if r.route == "list" and r.query.get("status") == "Succeeded"]
    assert len(history) == 1 and "invocationIdPrefix" not in history[0].query
    assert fc_emulator.request_count("list") == data["list_calls"] + 1
    assert fc_emulator.clock.now() - started - 600 < 10
    assert data["polls"] < 40  # sparse until the likely end (the default: about 25 in 10 min)
    assert err.startswith(f"waiting for batch {SERVICE}/{FUNCTION} prefix wb-: timeout 2h00m00s, {DURATION_AWARE}, ")
    assert err.splitlines()[-1].endswith(f"({data['polls']} polls, {data['list_calls']} list calls + 1 for the "
                                         "history)")


def test_fc3_wait_batch_with_a_seeded_history(fc_emulator, cli):
    fc_emulator.add_function(None, "render", duration=300.0)
    seed_history(fc_emulator, tight(around=300.0), service=None, function="render")
    client = fc_emulator.client()
    for i in (1, 2):
        client.invoke_async_task("render", "{}", task_id=f"b-{i}")
    code, out, err = cli("wait-batch", "render", "--prefix", "b-", "--timeout", "1h", "-o", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["all_succeeded"] and data["total"] == 2
    assert data["schedule"] == "duration-aware" and data["history_calls"] == 1
    lists = [r for r in fc_emulator.requests if r.route == "list"]
    assert {r.api for r in lists} == {"2023-03-30"} and len(lists) == data["list_calls"] + 1
