"""A secret input that breaks a rule: its error names the argument and the rule, and shows no fragment
of it (the message held repr(value) cut to 77 characters, which exact-text masking missed)."""

import pulumi
import pytest

from pulumi_fc_invocation import AsyncTask, StatefulAsyncInvocation
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
