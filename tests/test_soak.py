"""Soak: many reads and gated waits against the emulator in one process, with memory (RSS), open file
descriptors, threads and connections measured before and after: all must stay flat.

In the test suite a short version runs (2,000 reads, 50 waits, generous thresholds). The full version
(20,000 reads, 500 waits) prints its figures::

    .venv/bin/python tests/test_soak.py --full
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time

from _clocks import until
from pulumi_fc_invocation.testing.server import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import WaitPolicy, wait_for_invocation


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds() -> tuple[int, int]:
    """(open file descriptors, of which sockets)."""
    total = sockets = 0
    for name in os.listdir("/proc/self/fd"):
        total += 1
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                sockets += 1
        except OSError:
            pass
    return total, sockets


def sample() -> dict:
    gc.collect()
    total, sockets = fds()
    return {"rss_kib": rss_kib(), "fds": total, "sockets": sockets, "threads": threading.active_count()}


def soak(reads: int, waits: int, *, progress=None) -> dict:
    """Run the soak; returns the figures (samples before, after warm-up, at the end, after close)."""
    figures: dict = {"reads": reads, "waits": waits}
    before = sample()
    with FcEmulator(clock="virtual") as fc:
        fc.add_function("soak", "job", outcome="Succeeded", duration=8)
        for i in range(64):
            fc.add_invocation("soak", "job", f"r-{i}", payload=f'{{"n": {i}, "text": "ünïcode ✓"}}',
                              timeline=[("Succeeded", 0)])
        client = fc.client(backoff_factor=0.01)
        policy = WaitPolicy(initial_delay=1.0, max_delay=5.0, timeout=600)
        clock = AutoAdvanceClock(fc.clock)

        def do_reads(n: int, offset: int = 0) -> None:
            for k in range(n):
                i = (offset + k) % 64
                result = client.get(f"soak/job/r-{i}")
                assert result.invocation_id == f"r-{i}" and result.invocation_payload.startswith(f'{{"n": {i},')
                if k % 1000 == 999:
                    fc.reset_requests()  # the emulator's request log is not the client's memory

        def do_waits(n: int, tag: str) -> int:
            polls = 0
            for k in range(n):
                inv = client.invoke_async("soak", "job", "{}", invocation_id=f"w-{tag}-{k}")
                outcome = wait_for_invocation(client, f"soak/job/{inv}", policy=policy, clock=clock)
                assert outcome.result is not None and outcome.result.succeeded, outcome
                polls += outcome.calls
                if k % 50 == 49:
                    fc.reset_requests()
            return polls

        # Warm up: first connections, caches, lazily imported modules, pydantic validators.
        do_reads(min(500, reads // 4))
        do_waits(min(20, max(1, waits // 4)), "warm")
        fc.reset_requests()
        warm = sample()
        accepted = fc.connections_accepted
        started = time.perf_counter()
        do_reads(reads)
        read_seconds = time.perf_counter() - started
        if progress:
            progress(f"{reads} reads in {read_seconds:.1f} s")
        mid = sample()
        started = time.perf_counter()
        polls = do_waits(waits, "soak")
        wait_seconds = time.perf_counter() - started
        if progress:
            progress(f"{waits} waits ({polls} polls) in {wait_seconds:.1f} s")
        end = sample()
        new_connections = fc.connections_accepted - accepted
        open_at_end = len(fc._server._open) if fc._server is not None else 0
        client.close()
        until(lambda: fc._server is None or not fc._server._open)  # the server notices the client's close
        open_after_close = len(fc._server._open) if fc._server is not None else 0
    after = sample()
    figures.update(before=before, warm=warm, after_reads=mid, end=end, after_close=after,
                   read_seconds=round(read_seconds, 2), reads_per_second=round(reads / read_seconds),
                   wait_seconds=round(wait_seconds, 2), wait_polls=polls,
                   new_connections=new_connections, open_connections_at_end=open_at_end,
                   open_connections_after_close=open_after_close,
                   rss_growth_kib=end["rss_kib"] - warm["rss_kib"], fd_growth=end["fds"] - warm["fds"],
                   thread_growth=end["threads"] - warm["threads"])
    return figures


def check(figures: dict, rss_kib_limit: int) -> None:
    warm, end, before, after = figures["warm"], figures["end"], figures["before"], figures["after_close"]
    assert figures["rss_growth_kib"] <= rss_kib_limit, figures
    assert end["fds"] <= warm["fds"] + 1 and end["sockets"] <= warm["sockets"] + 1, figures  # flat
    assert end["threads"] <= warm["threads"], figures  # no thread per call, none leaked
    assert figures["new_connections"] <= 1, figures  # one keep-alive connection carried everything
    assert figures["open_connections_after_close"] == 0, figures
    assert after["fds"] <= before["fds"] and after["sockets"] <= before["sockets"], figures
    assert after["threads"] <= before["threads"], figures


def test_soak_short():
    figures = soak(2000, 50)
    print(json.dumps(figures, indent=1))
    check(figures, rss_kib_limit=8 * 1024)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Soak the client against the emulator; print the figures.")
    parser.add_argument("--full", action="store_true", help="20,000 reads and 500 waits (default: 2,000 and 50)")
    parser.add_argument("--reads", type=int)
    parser.add_argument("--waits", type=int)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args(argv)
    reads = args.reads or (20000 if args.full else 2000)
    waits = args.waits or (500 if args.full else 50)
    figures = soak(reads, waits, progress=None if args.json else lambda line: print(line, file=sys.stderr))
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        w, e, a = figures["warm"], figures["end"], figures["after_close"]
        print(f"reads: {reads} in {figures['read_seconds']} s ({figures['reads_per_second']}/s); "
              f"waits: {waits} ({figures['wait_polls']} polls) in {figures['wait_seconds']} s")
        print(f"RSS: {w['rss_kib'] / 1024:.1f} MiB after warm-up -> {e['rss_kib'] / 1024:.1f} MiB at the end "
              f"({figures['rss_growth_kib']:+d} KiB)")
        print(f"open fds: {w['fds']} -> {e['fds']} (sockets {w['sockets']} -> {e['sockets']}); "
              f"after close: {a['fds']} (sockets {a['sockets']}); before start: {figures['before']['fds']}")
        print(f"threads: {w['threads']} -> {e['threads']}; after close: {a['threads']}; "
              f"before start: {figures['before']['threads']}")
        print(f"connections: {figures['new_connections']} new during the soak; open at end "
              f"{figures['open_connections_at_end']}, after close {figures['open_connections_after_close']}")
    try:
        check(figures, rss_kib_limit=8 * 1024)
    except AssertionError:
        print("NOT FLAT", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
