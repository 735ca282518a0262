"""No secret ever leaks: one test gathers everything a user or an attacker could read -- the serialized
provider of every resource (and its base64 decoding), all outputs, inputs and state from the harness,
every log record at DEBUG (urllib3's included), the provider host's own output, every exception text
and traceback the fault matrix produces, and the CLI's stdout/stderr at its most verbose -- and searches
it for the access key secret and the STS token. The access key id, which none of those need, must not
appear in outputs, state or exception texts either."""

from __future__ import annotations

import base64
import importlib.util
import logging
import os
import pickle
import subprocess
import sys
import traceback
import warnings

import pulumi
import pytest

import reliability_matrix as rm
from pulumi_fc_invocation import StatefulAsyncInvocation, get_stateful_async_invocation_output
from pulumi_fc_invocation.credentials import resolve_settings
from pulumi_fc_invocation.testing.harness import ProgramError

KEY_ID, SECRET, TOKEN = rm.STS_KEY_ID, rm.STS_SECRET, rm.STS_TOKEN
CLI_AVAILABLE = importlib.util.find_spec("pulumi_fc_invocation.cli") is not None


def _exception_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    texts += [repr(v) for v in vars(exc).values()] if hasattr(exc, "__dict__") else []
    try:
        texts.append(repr(pickle.loads(pickle.dumps(exc))))
    except Exception as pickling:  # noqa: BLE001 - refusing to pickle is fine, the refusal is text too
        texts.append(str(pickling))
    return texts


def _program_texts(result) -> list[str]:
    texts = [repr(result.outputs)]
    for rec in result.resources:
        texts += [repr(rec.outputs), repr(rec.inputs), rec.id or "", rec.urn]
        if rec.provider_blob:
            texts.append(rec.provider_blob)
            texts.append(base64.b64decode(rec.provider_blob).decode("latin-1"))
    texts += [log.message for log in result.logs]
    return texts


def _cli(args, env):
    return subprocess.run([sys.executable, "-m", "pulumi_fc_invocation.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_no_secret_anywhere_a_user_or_attacker_can_read(caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "pulumi_fc_invocation", "pulumi"):
        caplog.set_level(logging.DEBUG, logger=name)
    public: list[str] = []  # outputs, state, exceptions: not even the key id belongs here
    private: list[str] = []  # logs, host output, CLI output: the key id may appear, never a secret

    with rm.Matrix() as matrix:
        fc = matrix.fc
        fc.add_invocation("hyg", "job", "ok-1", payload='{"p": 1}', return_payload="done",
                          timeline=[("Running", 0), ("Succeeded", 3)])
        fc.add_invocation("hyg", "job", "bad-1", error_message="OOM", timeline=[("Running", 0), ("Failed", 2)])

        # 1. The data source: a gated success (with transient faults during the wait), the function
        #    form, a failure, a missing task, an expired token.
        fc.inject_fault(route="get", status=503, times=4, match="ok-1")

        def ok():
            inv = StatefulAsyncInvocation("inv", service_name="hyg", function_name="job", invocation_id="ok-1",
                                          wait_for_completion=True)
            plain = StatefulAsyncInvocation("plain", service_name="hyg", function_name="job", invocation_id="ok-1",
                                            secret_payloads=False)
            fn = get_stateful_async_invocation_output("hyg", "job", "ok-1")
            pulumi.export("everything", pulumi.Output.all(inv.status, inv.events, inv.request_id, inv.endpoint,
                                                          inv.account_id, plain.invocation_payload, fn.status))

        result = matrix.run_program(ok)
        assert result.outputs["everything"][0] == "Succeeded"
        public += _program_texts(result)
        for program_id, kind in (("bad-1", "good"), ("missing-1", "good"), ("ok-1", "expired_sts")):
            def failing(program_id=program_id):
                StatefulAsyncInvocation("inv", service_name="hyg", function_name="job", invocation_id=program_id,
                                        wait_for_completion=True)
            with pytest.raises(ProgramError) as info:
                matrix.run_program(failing, kind)
            public += _exception_texts(info.value) + [info.value.message]
            if info.value.result is not None:
                public += _program_texts(info.value.result)
        for host in matrix._hosts.values():
            private += [host.stdout_text(), host.stderr_text()]

        # 2. Every fault of the matrix, read and wait: every exception's text, repr and traceback.
        for case in rm.CASES:
            if case.mode == "datasource" or case.min_seconds or "timeout" in case.id or case.endpoint == "trickle":
                continue  # the slow ones fail the same way as faster ones here
            obs = matrix.run(case)
            texts = [obs.message] + [str(t) for t in obs.texts]
            if obs.error is not None:
                texts += _exception_texts(obs.error)
            if case.creds == "unknown_key":
                private += texts  # FC names the unknown key id, by design: that is the diagnosis
            else:
                public += texts

        # 3. The objects themselves.
        client = fc.client(credentials=matrix.credentials("good"))
        settings = resolve_settings(config=matrix.config("good"))
        public += [repr(client), str(client.credentials), repr(settings)]
        for obj in (client, client.credentials):
            with pytest.raises(TypeError) as refused:
                pickle.dumps(obj)
            public.append(str(refused.value))
        client.close()

        # 4. The CLI at its most verbose, success and failures, secrets in its environment.
        if not CLI_AVAILABLE:  # written in parallel; until it lands, say so loudly rather than pass silently
            warnings.warn("pulumi_fc_invocation.cli is missing: the CLI part of the secret-hygiene test did not run")
        else:
            env = dict(os.environ, HOME=str(tmp_path), FC_INVOCATION_ENDPOINT=fc.endpoint,
                       ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET,
                       ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN, ALIBABA_CLOUD_ACCOUNT_ID=fc.account_id,
                       ALIBABA_CLOUD_REGION=fc.region)
            fc.advance(10)
            runs = [
                ["get", "hyg/job/ok-1", "-v", "-o", "json", "--show-payloads"],
                ["get", "hyg/job/ok-1", "-v", "--show-payloads"],
                ["wait", "hyg/job/bad-1", "-v"],
                ["wait", "hyg/job/ok-1", "-v", "-o", "json"],
                ["get", "hyg/job/missing-1", "-v"],
                ["list", "hyg/job", "-v", "--show-payloads"],
            ]
            outputs = [_cli(args, env) for args in runs]
            assert outputs[0].returncode == 0 and "ok-1" in outputs[0].stdout, outputs[0].stderr
            assert any("DEBUG" in o.stderr for o in outputs), "the CLI's -v produced no DEBUG log"
            assert outputs[2].returncode != 0 and "Failed" in outputs[2].stderr + outputs[2].stdout
            expired = dict(env, ALIBABA_CLOUD_ACCESS_KEY_ID=rm.EXPIRED_KEY_ID,
                           ALIBABA_CLOUD_ACCESS_KEY_SECRET=rm.EXPIRED_SECRET,
                           ALIBABA_CLOUD_SECURITY_TOKEN=rm.EXPIRED_TOKEN)
            outputs.append(_cli(["get", "hyg/job/ok-1", "-v"], expired))
            assert "SecurityTokenExpired" in outputs[-1].stderr
            private += [o.stdout + o.stderr for o in outputs]

    # 5. Every log record, at DEBUG, from every logger (the package's, urllib3's, Pulumi's).
    records = caplog.records
    assert any(r.name.startswith("urllib3") for r in records), "urllib3 DEBUG logging was not captured"
    assert any(r.name.startswith("pulumi_fc_invocation") for r in records)
    private += [r.getMessage() for r in records]
    private += [caplog.text]
    private += ["".join(traceback.format_exception(*r.exc_info)) for r in records if r.exc_info]

    everything = "\n".join(public + private)
    assert "ok-1" in everything and "hyg/job" in everything  # the gathering did gather
    for secret in rm.SECRETS:
        assert secret not in everything, _where(secret, public + private)
    public_text = "\n".join(public)
    for key_id in (KEY_ID, rm.EXPIRED_KEY_ID, rm.KEY_ID):
        assert key_id not in public_text, _where(key_id, public)


def _where(needle: str, texts: list[str]) -> str:
    for text in texts:
        if needle in text:
            at = text.index(needle)
            return f"found in: ...{text[max(0, at - 200):at + 50]!r}..."
    return "not found"
