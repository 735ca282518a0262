"""Secret inputs. One that breaks a rule: its error names the argument and the rule, and shows no fragment
of it (the message held repr(value) cut to 77 characters, which exact-text masking missed). A secret id,
name or prefix: the gate reads and waits by it, and it stays out of outputs, ids, logs and errors."""

import pulumi
import pytest

from pulumi_fc_invocation import AsyncTask, StatefulAsyncInvocation, StatefulAsyncInvocations
from pulumi_fc_invocation import get_stateful_async_invocation_output, get_stateful_async_invocations_output
from pulumi_fc_invocation.errors import InvalidArgumentError
from pulumi_fc_invocation.fc2 import validate_invocation_id
from pulumi_fc_invocation.fc3 import validate_task_id
from pulumi_fc_invocation.models import SECRET_MASK, redacting
from pulumi_fc_invocation.testing.harness import ProgramError

LONG = "K9x" * 30 + "."  # 91 characters, invalid (a dot): repr cut to 77 shows its first 76
NEWLINE = "hushQ7-1\n"  # invalid (a newline): repr shows it as 'hushQ7-1\\n'
SECRETS = [LONG, NEWLINE]


def fragments(secret: str, size: int = 5) -> set:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)} | {repr(secret)[1:-1]}


def shows_none_of(secret: str, text: str) -> bool:
    return not [part for part in fragments(secret) if part in text]


@pytest.mark.parametrize("secret", SECRETS, ids=["91-chars", "newline"])
@pytest.mark.parametrize("validate, argument", [(validate_invocation_id, "invocation_id"),
                                                (validate_task_id, "task_id")])
def test_redacting_rebuilds_the_message_of_a_secret_invalid_value(secret, validate, argument):
    with pytest.raises(InvalidArgumentError) as caught, redacting([secret]):
        validate(secret)
    message = str(caught.value)
    assert message.startswith(f"invalid {argument} {SECRET_MASK}: ") and "1-128 letters" in message, message
    assert shows_none_of(secret, message) and caught.value.value == SECRET_MASK


def test_redacting_still_masks_exact_text_in_other_errors():
    with pytest.raises(ValueError) as caught, redacting(["tok-abc123"]):
        raise ValueError("no such task tok-abc123 in fn")
    assert str(caught.value) == f"no such task {SECRET_MASK} in fn"
    with pytest.raises(InvalidArgumentError) as plain, redacting(["tok-abc123"]):
        validate_task_id("not valid!")  # not the secret: shown as given
    assert "'not valid!'" in str(plain.value)


@pytest.mark.parametrize("secret", SECRETS, ids=["91-chars", "newline"])
def test_a_secret_invalid_id_in_the_data_sources_shows_no_fragment(run, secret):
    def fc2():
        StatefulAsyncInvocation("inv", service_name="svc", function_name="fn",
                                invocation_id=pulumi.Output.secret(secret))

    def fc3():
        AsyncTask("task", function_name="fn", task_id=pulumi.Output.secret(secret))

    for program, argument in ((fc2, "invocation_id"), (fc3, "task_id")):
        with pytest.raises(ProgramError) as caught:
            run(program)
        message = caught.value.message
        assert f"invalid {argument} {SECRET_MASK}" in message, message
        assert shows_none_of(secret, message), message
        logs = "\n".join(log.message for log in caught.value.result.logs)
        assert shows_none_of(secret, logs)


HIDDEN = "hidden-job-7Q"


def _everything(result):
    texts = [repr(result.outputs)] + [log.message for log in result.logs]
    for rec in result.resources:
        texts += [repr(rec.id), repr(rec.outputs), repr(rec.inputs)]
    return "\n".join(texts)


def test_a_secret_invocation_id_reads_waits_and_stays_secret(fc, run):
    fc.add_invocation("secsvc", "fn", HIDDEN, timeline=[("Running", 0), ("Succeeded", 20)])

    def program():
        inv = StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                      invocation_id=pulumi.Output.secret(HIDDEN), wait_for_completion=True)
        pulumi.export("status", inv.status)
        pulumi.export("invocationId", inv.invocation_id)
        res = get_stateful_async_invocation_output("secsvc", "fn", inv.invocation_id)  # read after the gate
        pulumi.export("fnStatus", res.status)
        pulumi.export("fnInvocationId", res.invocation_id)

    result = run(program)
    rec = result.resource("inv")
    assert rec.outputs["status"] == "Succeeded" and result.outputs["fnStatus"] == "Succeeded"
    assert rec.outputs["invocation_id"] == HIDDEN and "invocation_id" in rec.secret_outputs
    assert {"invocationId", "fnInvocationId"} <= result.secret_outputs
    assert "status" not in rec.secret_outputs  # only what came from the secret is secret
    assert rec.id == "secsvc/fn/[secret]"
    assert HIDDEN not in rec.id and not any(HIDDEN in log.message for log in result.logs)
    assert any("waiting for secsvc/fn/[secret]" in log.message for log in result.logs)


def test_a_secret_invocation_id_never_reaches_an_error_message(fc, run):
    fc.add_invocation("secsvc", "fn", HIDDEN + "-bad", error_message="boom", timeline=[("Failed", 0)])

    def failed():
        StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                invocation_id=pulumi.Output.secret(HIDDEN + "-bad"), wait_for_completion=True)

    def missing():
        StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                invocation_id=pulumi.Output.secret(HIDDEN + "-gone"))

    with pytest.raises(ProgramError) as bad:
        run(failed)
    assert "invocation secsvc/fn/[secret] ended Failed: boom" in bad.value.message
    with pytest.raises(ProgramError) as gone:
        run(missing)
    assert "invocation id '[secret]'" in gone.value.message and "StatefulAsyncInvocationNotFound" in gone.value.message
    for info in (bad, gone):
        assert HIDDEN not in info.value.message and HIDDEN not in _everything(info.value.result)


def test_a_secret_service_name_on_the_batch_reads_and_stays_secret(fc, run):
    for i in range(3):
        fc.add_invocation("secbatch", "fn", f"sb-{i}", timeline=[("Running", 0), ("Succeeded", 5 + i)])

    def program():
        batch = StatefulAsyncInvocations("batch", pulumi.Output.secret("secbatch"), "fn", invocation_id_prefix="sb-",
                                         wait_for_completion=True, expected_count=3)
        pulumi.export("total", batch.total)
        pulumi.export("ids", batch.ids)
        res = get_stateful_async_invocations_output(pulumi.Output.secret("secbatch"), "fn", invocation_id_prefix="sb-")
        pulumi.export("fnTotal", res.total)

    result = run(program)
    rec = result.resource("batch")
    assert rec.outputs["total"] == 3 and result.outputs["fnTotal"] == 3
    assert rec.id == "[secret]/fn?prefix=sb-"
    assert {"service_name", "ids", "invocations"} <= rec.secret_outputs and "ids" in result.secret_outputs
    assert "total" not in rec.secret_outputs
    assert not any("secbatch" in log.message for log in result.logs)
    assert any("batch [secret]/fn prefix sb-" in log.message for log in result.logs)


def test_a_refresh_of_a_read_with_a_masked_id_reads_the_secret_from_the_prior_outputs(fc, run, host):
    import asyncio

    import grpc
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    fc.add_invocation("secsvc", "fn", HIDDEN + "-r", timeline=[("Running", 0), ("Failed", 600)], error_message="x")

    def program():
        StatefulAsyncInvocation("inv", service_name="secsvc", function_name="fn",
                                invocation_id=pulumi.Output.secret(HIDDEN + "-r"))

    rec = run(program).resource("inv")
    fc.advance(700)
    prior = dict(rec.outputs, __provider=rec.provider_blob)
    stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{host.port}"))
    response = stub.Read(provider_pb2.ReadRequest(id=rec.id, urn=rec.urn,
                                                  properties=asyncio.run(rpc.serialize_properties(prior, {}))))
    assert response.id == "secsvc/fn/[secret]"
    assert rpc.deserialize_properties(response.properties)["status"] == "Failed"


def test_a_failed_member_of_a_batch_with_a_secret_prefix_is_reported_masked(fc, run):
    fc.add_invocation("secbatch", "fn", "hush-0", error_message="boom", timeline=[("Failed", 0)])

    def program():
        StatefulAsyncInvocations("batch", "secbatch", "fn", invocation_id_prefix=pulumi.Output.secret("hush-"),
                                 wait_for_completion=True)

    with pytest.raises(ProgramError) as info:
        run(program)
    assert "secbatch/fn/[secret]0 ended Failed: boom" in info.value.message
    assert "hush-" not in info.value.message and "hush-" not in _everything(info.value.result)
