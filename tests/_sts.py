"""A stand-in STS for the faults the identity stand-ins cannot produce (one that never answers, or issues one
short-lived key and then stalls), and a gate whose credentials come from AssumeRoleWithOIDC at it."""

from __future__ import annotations

import json
import time

import pytest
from _hostile import HostileServer, http_response

from pulumi_fc_invocation.credentials import base as cr

ACCOUNT = "1234567890123456"
ROLE = f"acs:ram::{ACCOUNT}:role/deploy"
PROVIDER = f"acs:ram::{ACCOUNT}:oidc-provider/ci"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLTE"


def stalling(*replies, drip: float | None = None) -> HostileServer:
    """A server that sends ``replies`` (bytes, or a function making them when asked) to its first requests,
    then never answers (STS not answering); or, with ``drip``, sends the head of a 200 answer and then one
    byte of its body every ``drip`` seconds. ``len(server.seen)`` counts the requests: one per attempt."""
    queue = list(replies)
    body = json.dumps({"Code": "Success", "AccessKeyId": "STS.drip", "AccessKeySecret": "s" * 30,
                       "SecurityToken": "t" * 400, "Expiration": "2099-01-01T00:00:00Z"}).encode()

    def answer(seen, conn):
        if queue:
            reply = queue.pop(0)
            return reply() if callable(reply) else reply
        if drip is None:
            server.stop.wait()
            return None
        conn.sendall(http_response(200, body)[:-len(body)])
        for byte in body:
            if server.stop.wait(drip):
                return None
            conn.sendall(bytes([byte]))
        return None

    server = HostileServer(answer)
    return server

def json_reply(status: int, data: dict) -> bytes:
    return http_response(status, json.dumps(data).encode())

def sts_answer(fc, key_id: str, lifetime: float) -> dict:
    """An AssumeRoleWithOIDC answer with a key the emulator accepts until ``lifetime`` seconds from now."""
    fc.add_credentials(key_id, "secret-of-" + key_id, "token-of-" + key_id, expires_at=fc.now() + lifetime)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fc.now() + lifetime))
    return {"RequestId": "r-1", "Credentials": {"AccessKeyId": key_id, "AccessKeySecret": "secret-of-" + key_id,
                                                "SecurityToken": "token-of-" + key_id, "Expiration": expires}}

def run_gate_with_sts(fc, sts_endpoint: str, token_file, invocation_id: str, form=None) -> str:
    """Run a program with a gate (5 s timeout, no duration history) on a running task, its credentials from
    AssumeRoleWithOIDC at ``sts_endpoint``; returns the deployment's error. ``form``: the gate's function
    form to call instead of the data source."""
    from pulumi_fc_invocation import StatefulAsyncInvocation
    from pulumi_fc_invocation.testing.harness import ProgramError, run_program

    token_file.write_text(JWT)
    env = {"ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER,
           "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file), "ALIBABA_CLOUD_STS_ENDPOINT": sts_endpoint,
           **{name: "" for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                    "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "FC_INVOCATION_ENDPOINT")}}
    config = {"alicloud:accountId": fc.account_id, "fc-invocation:endpoint": fc.endpoint}

    def program():
        gate = form or (lambda **args: StatefulAsyncInvocation("gate", **args))
        gate(service_name="svc", function_name="fn", invocation_id=invocation_id, wait_for_completion=True,
             timeout_seconds=5, use_duration_history=False)

    cr.forget_cached_credentials()
    with pytest.raises(ProgramError) as info:
        run_program(program, config=config, env=env, timeout=90)
    return str(info.value)

def short_lived_sts(fc) -> HostileServer:
    """An STS that issues one key for 62 s from when it is asked (the emulator takes it), then never answers:
    a wait reads for 2 s with it, then every read needs a refresh that cannot come."""
    return stalling(lambda: json_reply(200, sts_answer(fc, "STS.short", 62)))
