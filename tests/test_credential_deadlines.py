"""Credential fetches within a deadline, answers read with limits, and ``-v`` that leaks nothing (issue 24,
items 3, 15, 16 and 17).

The FC emulator and its identity stand-ins (STS, metadata, credentials URI) over real HTTP, and, for
the faults they cannot produce (an STS that never answers, a credentials URI that drips its answer, a
gzip bomb), small in-process servers (here, ``_sts`` and ``_scripted_server``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
import zlib

import pytest
from _hostile import HostileServer, byte_before_timeout, http_response
from _sts import JWT, PROVIDER, ROLE, json_reply, run_gate_with_sts, short_lived_sts, stalling, sts_answer

from pulumi_fc_invocation.credentials import base as cr
from pulumi_fc_invocation.client import FcClient
from pulumi_fc_invocation.credentials import resolve_settings
from pulumi_fc_invocation.errors import FcInvocationError, RequestTimeoutError, ResponseTooLargeError
from pulumi_fc_invocation.testing import AutoAdvanceClock, FcEmulator
from pulumi_fc_invocation.testing.identity import IdentityServices
from pulumi_fc_invocation.waiter import use_clock

BEARER = "bearer-7c1d0e55-query-secret"


# --- servers for the faults the emulator cannot produce ---------------------------------------------------


def gzip_bomb(decoded_mib: int = 300) -> bytes:
    """A gzip body of a few hundred KiB that decodes to ``decoded_mib`` MiB of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(decoded_mib)) + packer.flush()


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path):
    """A virtual-clock FC emulator with a task to read, and its identity stand-ins."""
    cr.forget_cached_credentials()
    fc = FcEmulator(clock="virtual")
    with fc, IdentityServices(fc, lifetime=900) as ids, use_clock(AutoAdvanceClock(fc.clock)):
        ids.add_role(ROLE)
        ids.add_oidc_provider(PROVIDER, JWT)
        fc.add_invocation("svc", "fn", "job-1", timeline=[("Running", 0)])
        token_file = tmp_path / "oidc-token"
        token_file.write_text(JWT)
        fc.ids, fc.token_file, fc.home = ids, token_file, tmp_path
        yield fc
    cr.forget_cached_credentials()


def client_for(fc, environ: dict) -> FcClient:
    settings = resolve_settings(environ=environ, home=fc.home, endpoint=fc.endpoint, account_id=fc.account_id)
    return FcClient(endpoint=fc.endpoint, account_id=fc.account_id, credentials=settings.credentials, max_retries=0)


def oidc_env(fc, sts_endpoint: str) -> dict:
    return fc.ids.oidc_env(ROLE, PROVIDER, fc.token_file, ALIBABA_CLOUD_STS_ENDPOINT=sts_endpoint)


# --- item 3: a refresh within the call's deadline -----------------------------------------------------------


def test_a_refresh_takes_the_calls_remaining_deadline(world):
    """STS never answers: a read bounded to 2 s makes one STS attempt, cut at its deadline (not 3 attempts of
    10 s each), and its error names STS, the role and where the setting came from."""
    with stalling() as sts:
        client = client_for(world, oidc_env(world, sts.endpoint))
        with pytest.raises(RequestTimeoutError) as info:
            client.bounded(2.0).get("svc/fn/job-1")
        client.close()
    text = str(info.value)
    assert f"AssumeRoleWithOIDC for role {ROLE}" in text and f"STS at {sts.endpoint}" in text, text
    assert "(from ALIBABA_CLOUD_ROLE_ARN)" in text and "deadline" in text, text
    assert len(sts.seen) == 1
    assert world.requests == []  # nothing was sent to FC unsigned or signed with nothing


def test_a_still_valid_key_keeps_signing_while_a_refresh_is_pending(world):
    """The key is due for its early refresh (5 of 15 minutes left) and STS stops answering: every read is
    signed with the valid key at once; one refresh is pending, not one per read."""
    with stalling(json_reply(200, sts_answer(world, "STS.first", 900))) as sts:
        client = client_for(world, oidc_env(world, sts.endpoint))
        client.get("svc/fn/job-1")
        world.advance(600)
        for _ in range(5):
            assert client.bounded(60).get("svc/fn/job-1").status.value == "Running"
        pending = len(sts.seen)
        client.close()
    assert [r.access_key_id for r in world.requests] == ["STS.first"] * 6
    assert pending == 2  # the first fetch, and the one refresh still waiting for STS


def test_a_refresh_timeout_carries_the_last_transient_error(world):
    """STS answers 503 once, then nothing: the deadline's error says so, and names STS and the source."""
    overloaded = {"Code": "ServiceUnavailable", "Message": "STS is overloaded", "RequestId": "r-503"}
    with stalling(json_reply(503, overloaded)) as sts:
        client = client_for(world, oidc_env(world, sts.endpoint))
        with pytest.raises(RequestTimeoutError) as info:
            client.bounded(3.0).get("svc/fn/job-1")
        client.close()
    text = str(info.value)
    assert f"STS at {sts.endpoint}" in text and "(from ALIBABA_CLOUD_ROLE_ARN)" in text, text
    assert "ServiceUnavailable" in text and "STS is overloaded" in text, text
    assert len(sts.seen) == 2


# --- item 17: an overall deadline for a credential fetch -------------------------------------------------------


def test_a_dripping_credentials_uri_ends_at_the_calls_deadline(world):
    """A credentials URI that sends its answer one byte every 0.2 s: the read ends at its 2 s deadline with
    an error naming the URI (without its query) and the setting, after one attempt."""
    with stalling(drip=0.2) as uri:
        client = client_for(world, {"ALIBABA_CLOUD_CREDENTIALS_URI": uri.endpoint + "/creds?token=" + BEARER})
        with pytest.raises(RequestTimeoutError) as info:
            client.bounded(2.0).get("svc/fn/job-1")
        client.close()
    text = str(info.value)
    assert f"credentials URI {uri.endpoint}/creds" in text and "(from ALIBABA_CLOUD_CREDENTIALS_URI)" in text, text
    assert BEARER not in text and "deadline" in text
    assert len(uri.seen) == 1


def test_a_credentials_uri_that_trickles_before_each_timeout_ends_at_the_deadline(world):
    """A kept-alive answer that sends a byte just before the read timeout (the time left at send): the
    next read waits only what is left, so the fetch ends at the call's 2 s deadline, not a timeout later."""
    with HostileServer(lambda seen, conn: byte_before_timeout(conn, uri.stop, 1.9)) as uri:
        client = client_for(world, {"ALIBABA_CLOUD_CREDENTIALS_URI": uri.endpoint + "/creds"})
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="deadline"):
            client.bounded(2.0).get("svc/fn/job-1")
        elapsed = time.monotonic() - started
        client.close()
    assert elapsed < 3.0, elapsed  # a read timeout later would be 1.9 + 2 s


def test_reads_waiting_for_a_dripping_fetch_end_at_their_own_deadlines(world):
    """Four reads at once, the credentials URI dripping: the one fetching and the three waiting for its lock
    all end by their 2 s deadline (before, each waited for the fetch before it, without limit)."""
    import concurrent.futures

    with stalling(drip=0.2) as uri:
        client = client_for(world, {"ALIBABA_CLOUD_CREDENTIALS_URI": uri.endpoint + "/creds"})
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client.bounded(2.0).get, "svc/fn/job-1") for _ in range(4)]
            errors = [future.exception(timeout=60) for future in futures]
        client.close()
    assert all(isinstance(error, RequestTimeoutError) for error in errors), errors
    assert all(f"credentials URI {uri.endpoint}/creds" in str(error) for error in errors), errors
    assert all("deadline" in str(error) for error in errors), errors
    assert 1 <= len(uri.seen) <= 4


def test_a_fetch_without_a_deadline_has_one_of_its_own(world, monkeypatch):
    """``current()`` with no timeout is bounded too (REFRESH_TIMEOUT, all attempts included)."""
    monkeypatch.setattr(cr, "REFRESH_TIMEOUT", 1.5, raising=False)  # (absent before: the test fails on behaviour)
    with stalling(drip=0.2) as uri:
        creds = resolve_settings(environ={"ALIBABA_CLOUD_CREDENTIALS_URI": uri.endpoint + "/creds"},
                                 home=world.home, endpoint=world.endpoint).credentials
        with pytest.raises(RequestTimeoutError, match="deadline"):
            creds.current()
    assert len(uri.seen) == 1


# --- item 16: answers read with limits -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["sts", "metadata", "uri"])
def test_a_gzip_bomb_from_a_credential_service_is_not_decoded(world, source):
    """A 300 MiB gzip bomb (300 KiB on the wire) answering STS, the metadata service or a credentials URI:
    refused as too large, its name in the error, and never decoded past the cap (urllib3 < 2.6 decoded
    it all: +600 MiB)."""
    body = gzip_bomb()
    with HostileServer(lambda seen, conn: http_response(200, body, {"Content-Encoding": "gzip"})) as bomb:
        environ = {"sts": oidc_env(world, bomb.endpoint),
                   "metadata": {"ALIBABA_CLOUD_ECS_METADATA": "ecs-role",
                                "FC_INVOCATION_METADATA_ENDPOINT": bomb.endpoint},
                   "uri": {"ALIBABA_CLOUD_CREDENTIALS_URI": bomb.endpoint + "/creds"}}[source]
        client = client_for(world, environ)
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as info:
                client.get("svc/fn/job-1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            client.close()
    where = {"sts": f"STS at {bomb.endpoint}", "metadata": f"metadata service {bomb.endpoint}",
             "uri": f"credentials URI {bomb.endpoint}/creds"}[source]
    assert where in str(info.value), str(info.value)
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB allocated while reading the answer"


@pytest.mark.parametrize("source", ["sts", "metadata", "uri"])
def test_a_redirect_from_a_credential_service_is_refused_before_its_body_is_read(world, source):
    """A 302 whose body never ends, from STS, the metadata service or a credentials URI: refused at once
    as a RedirectError naming the service (requests would read its body whole, uncapped, past the fetch's
    deadline, even without following it), and nothing reaches the host it points to."""
    def endless_redirect(seen, conn):
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + other.endpoint.encode() + b"/steal\r\n"
                     b"Content-Length: 1000000000\r\n\r\n")
        end = time.monotonic() + 4  # the test's own bound: a fetch reading the body ends with it
        while not server.stop.wait(0.05) and time.monotonic() < end:
            try:
                conn.sendall(b"x" * 1000)
            except OSError:
                return None
        return None

    with HostileServer(lambda seen, conn: json_reply(200, {})) as other, HostileServer(endless_redirect) as server:
        environ = {"sts": oidc_env(world, server.endpoint),
                   "metadata": {"ALIBABA_CLOUD_ECS_METADATA": "ecs-role",
                                "FC_INVOCATION_METADATA_ENDPOINT": server.endpoint},
                   "uri": {"ALIBABA_CLOUD_CREDENTIALS_URI": server.endpoint + "/creds"}}[source]
        client = client_for(world, environ)
        started = time.monotonic()
        with pytest.raises(FcInvocationError) as info:
            client.bounded(5.0).get("svc/fn/job-1")
        elapsed = time.monotonic() - started
        client.close()
    assert type(info.value).__name__ == "RedirectError" and "redirect (HTTP 302)" in str(info.value), info.value
    assert elapsed < 2.0, elapsed
    # The metadata service: the IMDSv2 token's PUT, then IMDSv1's GET (a token refused falls back to it).
    assert other.seen == [] and [seen.request_line.split()[0] for seen in server.seen] == (
        ["PUT", "GET"] if source == "metadata" else ["POST" if source == "sts" else "GET"])


# --- items 15 and 17 through the CLI as a process --------------------------------------------------------------


@pytest.fixture
def real_fc(tmp_path):
    cr.forget_cached_credentials()
    with FcEmulator(clock="real") as fc, IdentityServices(fc) as ids:
        fc.add_invocation("svc", "fn", "job-1", timeline=[("Succeeded", 0)])
        fc.ids = ids
        home = tmp_path / "home"
        home.mkdir()
        fc.cli_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
                      "FC_INVOCATION_ENDPOINT": fc.endpoint, "ALIBABA_CLOUD_ACCOUNT_ID": fc.account_id,
                      "ALIBABA_CLOUD_REGION": fc.region}
        yield fc


def run_cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    if os.environ.get("PYTHONPATH"):  # a checkout run with PYTHONPATH runs its own CLI
        env = {**env, "PYTHONPATH": os.environ["PYTHONPATH"]}
    return subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_verbose_logs_the_package_only_and_never_the_credentials_uri_query(real_fc):
    env = {**real_fc.cli_env, "ALIBABA_CLOUD_CREDENTIALS_URI": real_fc.ids.credentials_uri + "?token=" + BEARER}
    proc = run_cli(env, "get", "svc/fn/job-1", "-v")
    assert proc.returncode == 0, proc.stderr
    assert real_fc.ids.requests[-1].action == "uri"  # the credentials came from the URI
    assert BEARER not in proc.stderr and BEARER not in proc.stdout
    names = {line.split()[3].rstrip(":") for line in proc.stderr.splitlines() if " DEBUG " in line}
    assert "pulumi_fc_invocation.transport" in names, proc.stderr  # the package's own debug log is there
    assert all(name.startswith("pulumi_fc_invocation") for name in names), names  # no library's


def test_cli_wait_with_a_dripping_credentials_uri_ends_at_its_timeout(real_fc):
    with stalling(drip=0.5) as uri:
        env = {**real_fc.cli_env, "ALIBABA_CLOUD_CREDENTIALS_URI": uri.endpoint + "/creds?token=" + BEARER}
        # Before: 62 s and more (a drip of the answer held the wait, under the refresh lock): 40 s is generous.
        proc = run_cli(env, "wait", "svc/fn/job-1", "--timeout", "3s", timeout=40)
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert f"credentials URI {uri.endpoint}/creds" in line and "(from ALIBABA_CLOUD_CREDENTIALS_URI)" in line, line
    assert BEARER not in proc.stderr
    # One fetch for each read the wait makes (until its deadline, and the read at it), each cut at its deadline.
    assert 1 <= len(uri.seen) <= 2, uri.seen


# --- item 3 through a gate (the data sources through the harness) ------------------------------------------------


def test_a_gate_whose_sts_never_answers_fails_by_its_timeout_naming_sts_and_the_source(tmp_path):
    """STS never answering: the deployment fails with an error that names STS, the role and the setting,
    after one STS attempt for each read the gate could make."""
    with FcEmulator(clock="real") as fc, stalling() as sts:
        fc.add_invocation("svc", "fn", "job-1", timeline=[("Running", 0)])
        text = run_gate_with_sts(fc, sts.endpoint, tmp_path / "oidc-token", "job-1")
    assert f"AssumeRoleWithOIDC for role {ROLE}" in text and f"STS at {sts.endpoint}" in text, text
    assert "(from ALIBABA_CLOUD_ROLE_ARN)" in text, text
    assert fc.requests == []
    # Each read's fetch is cut at that read's deadline: one STS attempt each (before: 3 attempts of 10 s in the
    # first read alone, and the gate overran its timeout by half a minute).
    assert 1 <= len(sts.seen) <= 2, sts.seen


# --- item 3: the timeout of a wait whose reads stopped for want of credentials ------------------------------------


def test_cli_wait_timeout_names_the_refresh_that_stopped_the_reads(real_fc, tmp_path):
    """``wait`` read the task Running, then every read needed a refresh STS never answered: exit 2, and the
    timeout's line says why the reads stopped (before: "last status Running" alone)."""
    token_file = tmp_path / "oidc-token"
    token_file.write_text(JWT)
    real_fc.add_invocation("svc", "fn", "run-1", timeline=[("Running", 0)])
    with short_lived_sts(real_fc) as sts:
        env = {**real_fc.cli_env, "ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER,
               "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file), "ALIBABA_CLOUD_STS_ENDPOINT": sts.endpoint}
        proc = run_cli(env, "wait", "svc/fn/run-1", "--timeout", "5s", "--no-history")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert "last status Running" in line, line
    assert f"STS at {sts.endpoint}" in line and "(from ALIBABA_CLOUD_ROLE_ARN)" in line, line


def test_a_gate_timeout_names_the_refresh_that_stopped_the_reads(tmp_path):
    """The gate read the task Running, then every read needed a refresh STS never answered: its timeout says
    so (before: "last status Running" alone)."""
    with FcEmulator(clock="real") as fc:
        fc.add_invocation("svc", "fn", "run-1", timeline=[("Running", 0)])
        with short_lived_sts(fc) as sts:
            text = run_gate_with_sts(fc, sts.endpoint, tmp_path / "oidc-token", "run-1")
    assert "last status Running" in text, text
    assert f"STS at {sts.endpoint}" in text and "(from ALIBABA_CLOUD_ROLE_ARN)" in text, text
