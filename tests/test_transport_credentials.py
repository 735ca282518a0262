"""The transport's use of a credential source: one snapshot per attempt through ``current()``, and one
refresh when FC refuses a token before its expiry (403 SecurityTokenExpired / InvalidSecurityToken),
against the emulator and the STS stand-in (``fc_identity``) over real HTTP."""

from __future__ import annotations

import threading

import pytest

from pulumi_fc_invocation.credentials import base as cr
from pulumi_fc_invocation.client import FcClient
from pulumi_fc_invocation.credentials import Credentials, RefreshableCredentials, resolve_settings
from pulumi_fc_invocation.errors import AuthenticationError, FcApiError
from pulumi_fc_invocation.testing import IdentityServices

ACCOUNT = "1234567890123456"
ROLE = f"acs:ram::{ACCOUNT}:role/deploy"
BASE_ID, BASE_SECRET = "LTAI5tBaseKeyForTransport", "base-secret-for-transport-0123456789"


@pytest.fixture
def roles(fc_emulator, fc_identity, tmp_path, monkeypatch):
    """An FC 2.0 function and AssumeRole credentials (a RefreshableCredentials) for it."""
    monkeypatch.setattr(cr, "REFRESH_RETRY_DELAYS", (0.01, 0.01))
    cr.forget_cached_credentials()
    fc_identity.add_role(ROLE)
    fc_identity.add_key(BASE_ID, BASE_SECRET)
    fc_emulator.add_function("svc", "fn", duration=5)
    settings = resolve_settings(
        environ={"ALIBABA_CLOUD_ACCESS_KEY_ID": BASE_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": BASE_SECRET,
                 "ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALIBABA_CLOUD_STS_ENDPOINT": fc_identity.sts_endpoint},
        home=tmp_path, endpoint=fc_emulator.endpoint, account_id=fc_emulator.account_id)
    assert isinstance(settings.credentials, RefreshableCredentials)
    yield settings.credentials
    cr.forget_cached_credentials()


def client_for(fc, credentials, **kwargs) -> FcClient:
    return FcClient(endpoint=fc.endpoint, account_id=fc.account_id, credentials=credentials, max_retries=0, **kwargs)


def test_the_fixture_serves_sts_on_the_emulators_clock(fc_emulator, fc_identity):
    assert isinstance(fc_identity, IdentityServices) and fc_identity.sts_endpoint.startswith("http://127.0.0.1:")
    fc_identity.add_role(ROLE)
    fc_identity.add_key(BASE_ID, BASE_SECRET)
    fc_emulator.add_function("svc", "fn")
    cr.forget_cached_credentials()
    try:
        creds = resolve_settings(environ={"ALIBABA_CLOUD_ACCESS_KEY_ID": BASE_ID,
                                          "ALIBABA_CLOUD_ACCESS_KEY_SECRET": BASE_SECRET,
                                          "ALIBABA_CLOUD_ROLE_ARN": ROLE,
                                          "ALIBABA_CLOUD_STS_ENDPOINT": fc_identity.sts_endpoint},
                                 home=None, endpoint=fc_emulator.endpoint).credentials
        with client_for(fc_emulator, creds) as client:
            client.invoke_async("svc", "fn", "{}", invocation_id="via-sts")
        (issued,) = fc_identity.issued
        # The key STS issued is the one FC saw, and it expires on the emulator's clock.
        assert [r.access_key_id for r in fc_emulator.requests] == [issued.access_key_id]
        assert issued.expires_at > fc_emulator.clock.now()
    finally:
        cr.forget_cached_credentials()


class _Snapshotting(Credentials):
    """A Credentials whose own attributes are a key FC does not know: only ``current()`` has the good one."""

    __slots__ = ("_good", "asked")

    def __init__(self, good: Credentials) -> None:
        super().__init__("LTAI-not-this-one", "not-this-secret")
        object.__setattr__(self, "_good", good)
        object.__setattr__(self, "asked", [0])

    def current(self) -> Credentials:
        self.asked[0] += 1
        return self._good


def test_each_attempt_signs_with_what_current_returns(fc_emulator):
    fc_emulator.add_function("svc", "fn")
    fc_emulator.add_invocation("svc", "fn", "snap-1")
    fc_emulator.inject_fault("get", 503, "ServiceUnavailable", times=1)
    source = _Snapshotting(fc_emulator.credentials)
    with FcClient(endpoint=fc_emulator.endpoint, account_id=fc_emulator.account_id, credentials=source,
                  max_retries=2, backoff_factor=0.01) as client:
        assert client.get_stateful_async_invocation("svc", "fn", "snap-1").invocation_id == "snap-1"
    assert [r.status for r in fc_emulator.requests] == [503, 200]
    assert {r.access_key_id for r in fc_emulator.requests} == {fc_emulator.credentials.access_key_id}
    assert source.asked[0] == 2  # one snapshot per attempt, the retry included


def test_a_revoked_token_is_refreshed_once_and_the_call_sent_again(fc_emulator, fc_identity, roles):
    with client_for(fc_emulator, roles) as client:
        client.invoke_async("svc", "fn", "{}", invocation_id="job-1")
        (first,) = fc_identity.issued
        # FC stops taking the token while the client still holds it as valid (revoked).
        fc_emulator.add_credentials(first.access_key_id, first.access_key_secret, first.security_token, expired=True)
        result = client.get_stateful_async_invocation("svc", "fn", "job-1")
    assert result.invocation_id == "job-1"
    assert len(fc_identity.issued) == 2 and fc_identity.count("AssumeRole") == 2
    second = fc_identity.issued[1]
    gets = [r for r in fc_emulator.requests if r.route != "invoke"]
    assert [(r.status, r.access_key_id) for r in gets] == [(403, first.access_key_id), (200, second.access_key_id)]


def test_a_start_refused_for_its_token_is_sent_again_once(fc_emulator, fc_identity, roles):
    with client_for(fc_emulator, roles) as client:
        fc_emulator.inject_fault("invoke", code="InvalidSecurityToken", times=1)
        assert client.invoke_async("svc", "fn", "{}", invocation_id="job-2") == "job-2"
    assert [r.status for r in fc_emulator.requests] == [403, 202]
    assert fc_identity.count("AssumeRole") == 2
    assert fc_emulator.client().get_stateful_async_invocation("svc", "fn", "job-2").invocation_id == "job-2"


def test_a_token_refused_again_after_the_refresh_raises_the_fc_error(fc_emulator, fc_identity, roles):
    with client_for(fc_emulator, roles) as client:
        fc_emulator.inject_fault("get", code="SecurityTokenExpired", times=5)
        with pytest.raises(AuthenticationError) as info:
            client.get_stateful_async_invocation("svc", "fn", "nope")
    assert info.value.code == "SecurityTokenExpired" and info.value.http_status == 403
    assert [r.status for r in fc_emulator.requests] == [403, 403]  # one refresh, one second try, no loop
    assert fc_identity.count("AssumeRole") == 2


def test_static_keys_are_not_retried_on_a_refused_token(fc_emulator):
    fc_emulator.add_function("svc", "fn")
    fc_emulator.inject_fault("get", code="SecurityTokenExpired", times=2)
    with client_for(fc_emulator, fc_emulator.credentials) as client:
        with pytest.raises(AuthenticationError) as info:
            client.get_stateful_async_invocation("svc", "fn", "nope")
    assert info.value.code == "SecurityTokenExpired"
    assert len(fc_emulator.requests) == 1


def test_a_refresh_that_fails_raises_its_own_classified_error(fc_emulator, fc_identity, roles):
    with client_for(fc_emulator, roles) as client:
        client.invoke_async("svc", "fn", "{}", invocation_id="job-3")
        fc_emulator.inject_fault("get", code="SecurityTokenExpired", times=1)
        fc_identity.fail_next("sts", 503, "ServiceUnavailable", times=3)
        with pytest.raises(FcApiError) as info:
            client.get_stateful_async_invocation("svc", "fn", "job-3")
    # The refresh's own error (naming the STS call and where the role came from), not the 403.
    assert info.value.code == "ServiceUnavailable" and "AssumeRole for role " + ROLE in str(info.value)
    assert BASE_SECRET not in str(info.value)
    assert [r.status for r in fc_emulator.requests if r.route == "get"] == [403]


def test_fc3_a_refused_token_is_refreshed_once_too(fc_emulator, fc_identity, roles):
    fc_emulator.add_function(None, "render")
    with client_for(fc_emulator, roles) as client:
        client.invoke_async_task("render", "{}", task_id="t-1")
        fc_emulator.inject_fault("get", code="InvalidSecurityToken", times=1, api="2023-03-30")
        assert client.get_async_task("render", "t-1").task_id == "t-1"
    gets = [r for r in fc_emulator.requests if r.route == "get"]
    assert [r.status for r in gets] == [403, 200] and {r.api for r in gets} == {"2023-03-30"}
    assert gets[0].access_key_id != gets[1].access_key_id  # re-signed with the new key


class _RefreshTogether(Credentials):
    """``roles`` as the transport sees it, except that a refresh waits until ``parties`` calls ask for one:
    every call is refused before the first refresh runs, the case that used to make one STS call each."""

    __slots__ = ("creds", "barrier", "stale")

    def __init__(self, creds: RefreshableCredentials, parties: int) -> None:
        super().__init__("LTAI-not-this-one", "not-this-secret")
        for name, value in (("creds", creds), ("barrier", threading.Barrier(parties)), ("stale", [])):
            object.__setattr__(self, name, value)

    def current(self) -> Credentials:
        return self.creds.current()

    def refresh(self, stale=None) -> Credentials:
        self.stale.append(stale)
        self.barrier.wait(timeout=30)
        return self.creds.refresh() if stale is None else self.creds.refresh(stale=stale)


def test_calls_refused_together_share_one_refresh(fc_emulator, fc_identity, roles):
    threads = 8
    source = _RefreshTogether(roles, threads)
    with client_for(fc_emulator, source) as client:
        client.invoke_async("svc", "fn", "{}", invocation_id="job-4")
        (first,) = fc_identity.issued
        fc_emulator.add_credentials(first.access_key_id, first.access_key_secret, first.security_token, expired=True)
        start, results, errors = threading.Barrier(threads), [], []

        def read() -> None:
            try:
                start.wait(timeout=30)
                results.append(client.get_stateful_async_invocation("svc", "fn", "job-4").invocation_id)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        workers = [threading.Thread(target=read) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    assert not errors and results == ["job-4"] * threads
    # One STS call replaced the refused key for all eight calls, each of which handed in that key.
    assert fc_identity.count("AssumeRole") == 2 and len(fc_identity.issued) == 2
    assert [getattr(s, "access_key_id", None) for s in source.stale] == [first.access_key_id] * threads
    second = fc_identity.issued[1]
    gets = [r for r in fc_emulator.requests if r.route == "get"]
    assert sorted((r.status, r.access_key_id) for r in gets) == (
        [(200, second.access_key_id)] * threads + [(403, first.access_key_id)] * threads)


def test_a_source_whose_refresh_takes_no_argument_still_refreshes(fc_emulator, fc_identity, roles):
    class OldStyle(Credentials):
        refreshed = 0

        def current(self) -> Credentials:
            return roles.current()

        def refresh(self) -> Credentials:
            OldStyle.refreshed += 1
            return roles.refresh()

    with client_for(fc_emulator, OldStyle("LTAI-not-this-one", "not-this-secret")) as client:
        fc_emulator.inject_fault("invoke", code="InvalidSecurityToken", times=1)
        assert client.invoke_async("svc", "fn", "{}", invocation_id="job-5") == "job-5"
    assert OldStyle.refreshed == 1 and fc_identity.count("AssumeRole") == 2


def test_the_credentials_and_the_transport_retry_the_same_statuses():
    """One list of the answers worth another attempt (wire's), for FC's calls and the credentials' alike."""
    from pulumi_fc_invocation import wire
    from pulumi_fc_invocation.credentials.fetch import answer_problem, retried_status
    from pulumi_fc_invocation.transport import RETRY_STATUSES
    from pulumi_fc_invocation.transport.retry import RetryPolicy

    assert RETRY_STATUSES is wire.RETRY_STATUSES
    policy = RetryPolicy(max_retries=1)
    for status in range(400, 600):
        expected = status in wire.RETRY_STATUSES
        assert answer_problem(status, b"", "STS", ()).retryable is expected, status
        assert retried_status(status) is expected and policy.retries("GET", status=status) is expected, status
