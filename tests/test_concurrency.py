"""One client shared by 32 threads: every thread reads its own invocation, many times, while the
emulator throws transient faults at random requests, and always gets its own invocation back --
right id, right payload byte for byte -- never another thread's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from pulumi_fc_invocation import FcInvocationError
from pulumi_fc_invocation.testing.server import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import WaitPolicy, Waiter

THREADS = 32
READS = 20


def _payload(i: int) -> str:
    return f'{{"thread": {i}, "text": "スレッド {i} ✓ — {"x" * (i * 37)}"}}'


def test_32_threads_share_one_client_without_crossing():
    with FcEmulator(clock="virtual") as fc:
        for i in range(THREADS):
            fc.add_invocation("conc", "job", f"t-{i}", qualifier="prod" if i % 2 else None, payload=_payload(i),
                              error_message=f"error of {i}", timeline=[("Running", 0), ("Failed", 1 + i)])
        fc.advance(100)
        # Transient faults on random reads (whichever request comes next): retried, never crossed.
        fc.inject_fault(route="get", status=503, times=40)
        fc.inject_fault(route="get", reset=True, times=20)
        fc.inject_fault(route="get", truncate=True, times=20)
        client = fc.client(backoff_factor=0.01, max_retries=8)
        barrier = threading.Barrier(THREADS)
        errors: list[str] = []

        def worker(i: int) -> int:
            ref = f"conc{'.prod' if i % 2 else ''}/job/t-{i}"
            barrier.wait()
            ok = 0
            for _ in range(READS):
                try:
                    result = client.get(ref)
                except FcInvocationError as exc:  # a fault that outlasted the retries: not a crossing
                    errors.append(f"{i}: {exc}")
                    continue
                assert result.invocation_id == f"t-{i}", (i, result)
                assert result.invocation_payload == _payload(i), i
                assert result.invocation_error_message == f"error of {i}", i
                assert result.qualifier == "prod" if i % 2 else result.qualifier in ("", "LATEST"), i
                ok += 1
            return ok

        with client, ThreadPoolExecutor(THREADS) as pool:
            counts = list(pool.map(worker, range(THREADS)))
        assert sum(counts) >= THREADS * READS - 5, errors
        assert not fc.faults.pending(), "every injected fault was hit"
        assert fc.connections_accepted <= THREADS + 40 + 20 + 5  # pooled: a new connection only after a drop


def test_32_concurrent_waits_on_one_client_each_get_their_own_outcome():
    with FcEmulator(clock="virtual") as fc:
        for i in range(THREADS):
            fc.add_invocation("cw", "job", f"w-{i}", payload=_payload(i),
                              timeline=[("Running", 0), ("Succeeded" if i % 3 else "Failed", 5 + i)])
        client = fc.client(backoff_factor=0.01)
        clock = AutoAdvanceClock(fc.clock)
        start = fc.clock.now()

        def wait(i: int):
            return Waiter(lambda: client.get(f"cw/job/w-{i}"), WaitPolicy(initial_delay=1, max_delay=5, timeout=600),
                          clock=clock).wait()

        with client, ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(wait, range(THREADS)))
        for i, outcome in enumerate(outcomes):
            assert outcome.result is not None and outcome.result.invocation_id == f"w-{i}"
            assert outcome.result.status.value == ("Succeeded" if i % 3 else "Failed")
            assert outcome.result.invocation_payload == _payload(i)
            assert outcome.error is None and not outcome.timed_out
        assert fc.clock.now() - start <= 5 + THREADS + 6
