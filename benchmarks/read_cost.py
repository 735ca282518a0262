"""Figures 1 and 2: per-call cost of one read, side by side, and reads per second from threads.

Figure 1 has two parts in the same run: FC 2.0's GetStatefulAsyncInvocation (ours against
``alibabacloud-fc-open20210406``) and FC 3.0's GetAsyncTask (ours against ``alibabacloud-fc20230330``).
All contenders of a part talk to the same fixed-response keep-alive server in another process
(:mod:`benchmarks.fixed_server`), so the figures are client cost plus one loopback round trip.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from email.utils import formatdate
from typing import Any, Callable

from .common import Section, Stat
from .fixed_server import FixedServer

KEY_ID = "LTAIbenchmarkKey0001"
SECRET = "benchmark-secret-not-a-real-one"
ACCOUNT = "1234567890123456"
REGION = "cn-hangzhou"
SERVICE, FUNCTION, INVOCATION, QUALIFIER = "video", "transcode", "video-123", "prod"


def _our_client(srv: FixedServer) -> Any:
    from pulumi_fc_invocation import Credentials, FcClient

    return FcClient(endpoint=srv.endpoint, account_id=ACCOUNT, region=REGION,
                    credentials=Credentials(KEY_ID, SECRET), environ={}, home="/nonexistent")


def _official_config(srv: FixedServer) -> Any:
    """The official SDKs' config: plain http to the fixed server (they share tea-openapi)."""
    from alibabacloud_tea_openapi import models as open_api_models

    return open_api_models.Config(access_key_id=KEY_ID, access_key_secret=SECRET, region_id=REGION,
                                  endpoint=f"127.0.0.1:{srv.port}", protocol="http")


def _keepalive(srv: FixedServer) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _ours(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    client = _our_client(srv)

    def call() -> Any:
        return client.get_stateful_async_invocation(SERVICE, FUNCTION, INVOCATION, qualifier=QUALIFIER)

    return call, client.close


def _path() -> str:
    from pulumi_fc_invocation.client import API_VERSION

    return f"/{API_VERSION}/services/{SERVICE}.{QUALIFIER}/functions/{FUNCTION}/stateful-async-invocations/{INVOCATION}"


def _signed_headers(path: str) -> dict[str, str]:
    from pulumi_fc_invocation.signing import authorization

    headers = {"Date": formatdate(usegmt=True), "Content-Type": "application/json", "X-Fc-Account-Id": ACCOUNT}
    headers["Authorization"] = authorization("GET", path, headers, KEY_ID, SECRET)
    return headers


def _floor(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    """http.client on one keep-alive connection, signing, json.loads: what any client must at least do."""
    conn = _keepalive(srv)
    path = _path()

    def call() -> Any:
        conn.request("GET", path, headers=_signed_headers(path))
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(response.status)
        return json.loads(body)

    return call, conn.close


def _requests(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    """What a user would hand-write: a default requests.Session, signing, raise_for_status, .json()."""
    import requests

    session = requests.Session()
    path = _path()
    url = srv.endpoint + path

    def call() -> Any:
        response = session.get(url, headers=_signed_headers(path), timeout=(5, 15))
        response.raise_for_status()
        return response.json()

    return call, session.close


def _official(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    """alibabacloud-fc-open20210406's Client.get_stateful_async_invocation (plain http, custom endpoint)."""
    from alibabacloud_fc_open20210406 import models as fc_models
    from alibabacloud_fc_open20210406.client import Client

    client = Client(_official_config(srv))

    def call() -> Any:
        response = client.get_stateful_async_invocation(
            SERVICE, FUNCTION, INVOCATION, fc_models.GetStatefulAsyncInvocationRequest(qualifier=QUALIFIER))
        if response.status_code != 200 or response.body.status != "Running":
            raise RuntimeError(f"unexpected answer {response.status_code}")
        return response.body

    return call, lambda: None


Contenders = list[tuple[str, str, Callable[[FixedServer], tuple[Callable[[], Any], Callable[[], None]]]]]
"""(name, description, factory): a factory gives the timed call and its clean-up."""

CONTENDERS: Contenders = [
    ("floor", "http.client keep-alive + signing + json.loads (the floor)", _floor),
    ("requests", "plain requests.Session GET + signing + .json() (hand-written)", _requests),
    ("official", "alibabacloud-fc-open20210406 Client.get_stateful_async_invocation (official SDK)", _official),
    ("ours", "FcClient.get_stateful_async_invocation (this package)", _ours),
]


# --- FC 3.0 (2023-03-30): GetAsyncTask ------------------------------------------------------------

TASK_ID = "video-123"
# The fixed server's FC 2.0 invocation, as FC 3.0 tells it (same values, FC 3.0's keys).
ASYNC_TASK = {
    "taskId": TASK_ID,
    "functionArn": f"acs:fc:{REGION}:{ACCOUNT}/functions/{FUNCTION}",
    "qualifier": QUALIFIER,
    "requestId": "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718",
    "status": "Running",
    "destinationStatus": "",
    "taskErrorMessage": "",
    "taskPayload": "{\"video\": \"s3://bucket/in/video-123.mp4\"}",
    "alreadyRetriedTimes": 0,
    "startedTime": 1767225600000,
    "endTime": 0,
    "instanceId": "c-6789abcd-0123456789abcdef",
    "events": [
        {"eventId": 1, "status": "Enqueued", "timestamp": 1767225599000, "eventDetail": ""},
        {"eventId": 2, "status": "Dequeued", "timestamp": 1767225599500, "eventDetail": ""},
        {"eventId": 3, "status": "Running", "timestamp": 1767225600000, "eventDetail": ""},
    ],
}


def _ours3(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    client = _our_client(srv)

    def call() -> Any:
        result = client.get_async_task(FUNCTION, TASK_ID, qualifier=QUALIFIER)
        if result.status.value != "Running":
            raise RuntimeError(f"unexpected status {result.status}")
        return result

    return call, client.close


def _floor3(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    """http.client on one keep-alive connection, ACS3 signing, json.loads: what any FC 3.0 client must do."""
    from pulumi_fc_invocation.signing import acs3_sign_request

    conn = _keepalive(srv)
    path = f"/2023-03-30/functions/{FUNCTION}/async-tasks/{TASK_ID}"
    query = {"qualifier": QUALIFIER}
    base = {"host": f"127.0.0.1:{srv.port}", "x-acs-action": "GetAsyncTask", "x-acs-version": "2023-03-30",
            "accept": "application/json"}

    def call() -> Any:
        headers = {**base, **acs3_sign_request("GET", path, query=query, headers=base, access_key_id=KEY_ID,
                                               access_key_secret=SECRET)}
        conn.request("GET", f"{path}?qualifier={QUALIFIER}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(response.status)
        return json.loads(body)

    return call, conn.close


def _official3(srv: FixedServer) -> tuple[Callable[[], Any], Callable[[], None]]:
    """alibabacloud-fc20230330's Client.get_async_task (plain http, custom endpoint)."""
    from alibabacloud_fc20230330 import models as fc_models
    from alibabacloud_fc20230330.client import Client

    client = Client(_official_config(srv))

    def call() -> Any:
        response = client.get_async_task(FUNCTION, TASK_ID, fc_models.GetAsyncTaskRequest(qualifier=QUALIFIER))
        if response.status_code != 200 or response.body.status != "Running":
            raise RuntimeError(f"unexpected answer {response.status_code}")
        return response.body

    return call, lambda: None


CONTENDERS3: Contenders = [
    ("floor", "http.client keep-alive + ACS3 signing + json.loads (the floor)", _floor3),
    ("official", "alibabacloud-fc20230330 Client.get_async_task (official SDK)", _official3),
    ("ours", "FcClient.get_async_task (this package)", _ours3),
]

_MISSING_HINT = "pip install -e '.[test]' (the official SDKs are in the test extra)"


def _time_calls(call: Callable[[], Any], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1e6


def _measure(server: FixedServer, contenders: list, ratio_keys: list[str], *, calls: int, rounds: int,
             warmup: int) -> tuple[dict[str, Stat], dict[str, Stat], dict[str, str]]:
    """Per-call means of each contender over ``rounds``, and the ratios ``a/b`` computed within each round."""
    results: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    ratios: dict[str, list[float]] = {key: [] for key in ratio_keys}
    missing: dict[str, str] = {}
    with server as srv:
        made = {}
        for name, _, factory in contenders:
            try:
                made[name] = factory(srv)
            except ImportError as exc:  # the official SDKs are in the `test` extra
                missing[name] = f"not installed ({exc.name}); {_MISSING_HINT}"
        try:
            for name, (call, _) in made.items():
                for _ in range(warmup):
                    call()
            block = max(1, min(100, calls // 5))
            for r in range(rounds):
                order = [c[0] for c in contenders if c[0] in made]
                order = order[r % len(order):] + order[:r % len(order)]  # rotate who goes first
                # Within a round, contenders alternate in short blocks, so a burst of load from
                # elsewhere on the machine lands on all of them rather than on one.
                spent = {name: 0.0 for name in order}
                for _ in range(max(1, calls // block)):
                    for name in order:
                        spent[name] += _time_calls(made[name][0], block)
                this_round = {name: spent[name] / max(1, calls // block) for name in order}
                for name in order:
                    results[name].append(this_round[name])
                for key in ratios:
                    a, b = key.split("/")
                    if a in this_round and b in this_round:
                        ratios[key].append(this_round[a] / this_round[b])
        finally:
            for _, close in made.values():
                close()
    return ({name: Stat.of(values) for name, values in results.items()},
            {key: Stat.of(values) for key, values in ratios.items()}, missing)


def _contender_table(section: Section, contenders: list, stats: dict[str, Stat], missing: dict[str, str]) -> None:
    section.table(["contender", "per call, µs", "ours / it"],
                  [[f"`{name}`: {desc}", missing[name], "n/a"] if name in missing else
                   [f"`{name}`: {desc}", stats[name].fmt(0),
                    "1.00" if name == "ours" else f"{stats['ours'].median / stats[name].median:.2f}"]
                   for name, desc, _ in contenders])


def _official_target(section: Section, what: str, ratio: Stat, missing: dict[str, str]) -> None:
    name = f"{what}: ours faster than the official SDK (ratio < 1.0)"
    if "official" in missing:
        section.target(name, None, missing["official"])
    else:
        section.target(name, ratio.median < 1.0, f"ours/official = {ratio.fmt(2)} (median; min-max over rounds)")


def read_cost(section: Section, *, calls: int, rounds: int, warmup: int) -> dict[str, Any]:
    stats, ratio_stats, missing = _measure(
        FixedServer(), CONTENDERS, ["ours/official", "ours/requests", "ours/floor", "official/floor",
                                    "requests/floor"], calls=calls, rounds=rounds, warmup=warmup)
    block = max(1, min(100, calls // 5))
    section.add(f"Per-call time of one read against a fixed-response keep-alive HTTP/1.1 server in a separate "
                f"process (loopback, TCP_NODELAY; client and server each have a core). {rounds} rounds x {calls} "
                f"calls per contender; within a round the contenders alternate in blocks of {block} calls (the "
                f"first one rotates each round); median (min-max) of the rounds' per-call means.", "")
    section.add("### FC 2.0: GetStatefulAsyncInvocation (API 2016-08-15, FC signature)", "")
    _contender_table(section, CONTENDERS, stats, missing)
    section.add("Ratios, computed within each round (median (min-max) over rounds):", "")
    section.table(["ratio", "value"], [[key, value.fmt(2) if value.n else "n/a"] for key, value in ratio_stats.items()])
    _official_target(section, "FC 2.0", ratio_stats["ours/official"], missing)
    section.target("ours faster than a hand-written requests.Session call (ratio < 1.0)",
                   ratio_stats["ours/requests"].median < 1.0,
                   f"ours/requests = {ratio_stats['ours/requests'].fmt(2)} (median; min-max over rounds)")
    section.add(f"Cost over the floor: ours is {ratio_stats['ours/floor'].median:.2f}x the floor "
                f"(+{stats['ours'].median - stats['floor'].median:.0f} µs per call).", "")
    fc3 = read_cost_fc3(section, calls=calls, rounds=rounds, warmup=warmup)
    return {"stats": stats, "ratios": ratio_stats, "fc3": fc3}


def read_cost_fc3(section: Section, *, calls: int, rounds: int, warmup: int) -> dict[str, Any]:
    """FC 3.0's GetAsyncTask: ours against ``alibabacloud-fc20230330``, measured as the 2.0 part is."""
    stats, ratio_stats, missing = _measure(FixedServer(body=ASYNC_TASK), CONTENDERS3, ["ours/official", "ours/floor",
                                                                           "official/floor"],
                                           calls=calls, rounds=rounds, warmup=warmup)
    section.add("### FC 3.0: GetAsyncTask (API 2023-03-30, ACS3-HMAC-SHA256)", "",
                "The same server process answering an FC 3.0 AsyncTask (the same task, FC 3.0's keys); the same "
                "rounds and blocks.", "")
    _contender_table(section, CONTENDERS3, stats, missing)
    section.table(["ratio", "value"], [[key, value.fmt(2) if value.n else "n/a"] for key, value in ratio_stats.items()])
    _official_target(section, "FC 3.0", ratio_stats["ours/official"], missing)
    if "ours" in stats and stats["ours"].n and stats["floor"].n:
        section.add(f"Cost over the floor: ours is {ratio_stats['ours/floor'].median:.2f}x the floor "
                    f"(+{stats['ours'].median - stats['floor'].median:.0f} µs per call).", "")
    return {"stats": stats, "ratios": ratio_stats}


def threads(section: Section, *, thread_counts: tuple[int, ...], seconds: float, rounds: int) -> dict[str, Any]:
    rows = []
    out: dict[str, Any] = {}
    with FixedServer() as srv:
        for count in thread_counts:
            rates: list[float] = []
            connections: list[int] = []
            errors = 0
            for _ in range(rounds):
                client = _our_client(srv)
                srv.reset_accepted()
                done = [0] * count
                failed = [0] * count
                barrier = threading.Barrier(count + 1)
                stop = threading.Event()

                def worker(i: int) -> None:
                    barrier.wait()
                    while not stop.is_set():
                        try:
                            client.get_stateful_async_invocation(SERVICE, FUNCTION, INVOCATION, qualifier=QUALIFIER)
                            done[i] += 1
                        except Exception:  # noqa: BLE001 - counted and reported
                            failed[i] += 1

                workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
                for w in workers:
                    w.start()
                barrier.wait()
                started = time.perf_counter()
                time.sleep(seconds)
                stop.set()
                for w in workers:
                    w.join()
                elapsed = time.perf_counter() - started
                rates.append(sum(done) / elapsed)
                errors += sum(failed)
                connections.append(srv.accepted)
                client.close()
            stat = Stat.of(rates)
            out[count] = {"rate": stat, "connections": max(connections), "errors": errors}
            rows.append([count, stat.fmt(0), ", ".join(map(str, connections)), errors])
            section.target(f"no connection churn at {count} thread(s): connections accepted <= {count}",
                           max(connections) <= count and errors == 0,
                           f"{max(connections)} accepted (max over rounds), {errors} errors")
    section.add(f"Reads per second with N threads sharing one FcClient, against the same fixed-response server; "
                f"{rounds} rounds of {seconds:g} s each, a new client per round; connections are counted by the "
                f"server (accepted TCP connections during the round).", "")
    section.table(["threads", "reads/s, median (min-max)", "connections accepted per round", "errors"], rows)
    section.add("Client and server share the machine's cores and CPython's GIL serialises the client's Python "
                "work, so more threads add little throughput; the point is that they share the keep-alive pool "
                "without opening new connections.", "")
    return out
