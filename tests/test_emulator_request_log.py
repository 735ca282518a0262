"""The emulator's request log is bounded (issue 24, item 18): in entries (the newest are kept, the
number dropped is counted) and in size per entry (a path, a query and the ids the client chose are
cut, and the record says so), unauthenticated requests included. Over real HTTP."""

from __future__ import annotations

import http.client

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.server import MAX_LOGGED_REQUESTS, MAX_LOGGED_TEXT, RequestRecord


def send(fc, targets, headers=None):
    """GET each target on one keep-alive connection, unsigned unless ``headers`` sign it; the statuses."""
    conn = http.client.HTTPConnection(fc.host, fc.port, timeout=30)
    statuses = []
    try:
        for target in targets:
            conn.request("GET", target, headers=headers or {})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        conn.close()
    return statuses


def logged_text(record: RequestRecord) -> int:
    """Characters a record holds of what the client sent."""
    return (len(record.path) + sum(len(k) + len(v) for k, v in record.query.items())
            + len(record.access_key_id or "") + len(record.invocation_id or ""))


def test_the_issues_flood_no_longer_fills_the_log():
    """2,000 unauthenticated requests with 57 KiB paths (114 MiB): the log keeps a bounded part of each."""
    long_path = "/2016-08-15/services/s/functions/f/stateful-async-invocations/" + "x" * (57 * 1024)
    with FcEmulator(clock="virtual") as fc:
        statuses = send(fc, [long_path + f"-{i}" for i in range(2000)])
        assert set(statuses) <= {400, 403, 404}  # refused, but logged
        records = fc.requests
        assert len(records) == 2000 and fc.request_count() == 2000 and fc.requests_dropped == 0
        assert all(r.truncated and len(r.path) <= MAX_LOGGED_TEXT for r in records)
        assert all(r.path.startswith("/2016-08-15/services/s/functions/f/") for r in records)
        total = sum(logged_text(r) for r in records)
        assert total <= 2000 * 4 * MAX_LOGGED_TEXT, total  # was 2000 * 57 KiB = 114 MiB


def test_the_newest_entries_are_kept_and_the_dropped_ones_counted():
    with FcEmulator(clock="virtual", max_logged_requests=100) as fc:
        send(fc, [f"/2016-08-15/nowhere-{i}" for i in range(250)])
        records = fc.requests
        assert [r.path for r in records] == [f"/2016-08-15/nowhere-{i}" for i in range(150, 250)]
        assert fc.requests_dropped == 150
        assert fc.request_count() == 250  # counts every request, dropped ones included
        assert not any(r.truncated for r in records)
        fc.reset_requests()
        assert fc.requests == [] and fc.requests_dropped == 0 and fc.request_count() == 0


def test_a_long_query_and_a_long_key_id_are_cut_and_marked():
    with FcEmulator(clock="virtual") as fc:
        query = "&".join(f"k{i}={'v' * 20}" for i in range(100)) + "&big=" + "v" * 50_000  # the line's limit is 64 KiB
        send(fc, ["/2023-03-30/functions/f/async-tasks?" + query],
             headers={"Authorization": "FC " + "A" * 50_000 + ":sig", "Date": "x"})
        (record,) = fc.requests
        assert record.truncated
        assert sum(len(k) + len(v) for k, v in record.query.items()) <= MAX_LOGGED_TEXT
        assert 0 < len(record.query) < 100 and "big" not in record.query
        assert record.access_key_id == "A" * MAX_LOGGED_TEXT


def test_an_ordinary_request_is_logged_whole(fc_emulator):
    fc = fc_emulator
    fc.add_function(None, "render", duration=5)
    with fc.client(max_retries=0) as client:
        client.invoke_async_task("render", "{}", task_id="t-" + "a" * 120)
        list(client.list_async_tasks("render", prefix="t-" + "a" * 120, status="Succeeded"))
    invoke, listing = fc.requests
    assert not invoke.truncated and not listing.truncated
    assert invoke.invocation_id == "t-" + "a" * 120 and invoke.access_key_id == fc.credentials.access_key_id
    assert listing.query["prefix"] == "t-" + "a" * 120 and listing.query["status"] == "Succeeded"
    assert listing.path == "/2023-03-30/functions/render/async-tasks"


def test_the_callback_gets_the_bounded_record():
    seen = []
    with FcEmulator(clock="virtual", on_request=seen.append) as fc:
        send(fc, ["/" + "p" * 20_000])
    (record,) = seen
    assert record.truncated and len(record.path) <= MAX_LOGGED_TEXT


def test_the_default_bound_and_bad_bounds():
    assert MAX_LOGGED_REQUESTS >= 20_000  # a 1,000-gate benchmark makes about 15,000 requests
    with FcEmulator(clock="virtual") as fc:
        assert fc.max_logged_requests == MAX_LOGGED_REQUESTS
    for bad in (0, -1, 1.5, True, None, "100"):
        with pytest.raises(ValueError, match="max_logged_requests"):
            FcEmulator(clock="virtual", max_logged_requests=bad)
