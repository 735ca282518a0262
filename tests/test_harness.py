"""The test harness runs programs against a real dynamic provider host, faithfully enough to trust.

Every fact asserted about the provider side (pid, config, env, overlap) is observed inside the host
process by tests/_toy_provider.py and comes back through real outputs.
"""

from __future__ import annotations

import base64
import os
import textwrap

import pulumi
import pytest

from _toy_provider import Toy
from pulumi_fc_invocation.testing.harness import (
    UNKNOWN,
    ProgramError,
    ProgramResult,
    ProviderHost,
    ResourceRecord,
    run_program,
    run_program_file,
)

CONFIG = {
    "toy:endpoint": "https://fc.example.invalid",
    "toy:apiKey": "sekret-123",
    "test:greeting": "hello from config",
}
SECRET_KEYS = ("toy:apiKey",)


def _assert_process_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # terminated *and* reaped, or it would still exist as a zombie


def test_read_is_served_by_the_real_host_with_the_stack_config():
    def program():
        thing = Toy("inv", {"label": "a"}, pulumi.ResourceOptions(id="inv-1"))
        pulumi.export("host_pid", thing.host_pid)
        pulumi.export("endpoint", thing.endpoint)
        pulumi.export("greeting", thing.greeting)

    result = run_program(program, config=CONFIG, secret_keys=SECRET_KEYS)

    assert isinstance(result, ProgramResult)
    record = result.resource("inv")
    assert isinstance(record, ResourceRecord)
    assert record.op == "read"
    assert record.id == "inv-1"
    assert record.type == "pulumi-python:dynamic/toy:Thing"
    assert record.urn == (
        "urn:pulumi:dev::test::pulumi-python:dynamic/toy:Thing::inv"
    )
    assert record.outputs["token"] == "tok-inv-1"  # computed by ToyProvider.read
    host_pid = result.outputs["host_pid"]
    assert isinstance(host_pid, int) and host_pid != os.getpid()
    # configure() got the stack config; a key without namespace resolves under the project.
    assert result.outputs["endpoint"] == CONFIG["toy:endpoint"]
    assert result.outputs["greeting"] == CONFIG["test:greeting"]
    _assert_process_gone(host_pid)


def test_create_goes_through_check_and_create_and_exports_are_plain_values():
    def program():
        config = pulumi.Config("toy")
        thing = Toy("made", {"label": "m"})
        pulumi.export("id", thing.id)
        pulumi.export("endpoint", config.require("endpoint"))
        pulumi.export("api_key", config.require_secret("apiKey"))
        pulumi.export("nested", {"pid": thing.host_pid, "items": [1, "two"]})

    result = run_program(program, config=CONFIG, secret_keys=SECRET_KEYS)

    assert result.resource("made").op == "create"
    assert result.outputs["id"] == "created-m"
    assert result.outputs["endpoint"] == CONFIG["toy:endpoint"]
    assert result.outputs["api_key"] == "sekret-123"
    assert result.outputs["nested"]["items"] == [1, "two"]
    assert result.outputs["nested"]["pid"] != os.getpid()
    assert result.secret_outputs == {"api_key"}


def test_secrets_follow_the_engine_rules_and_config_stays_out_of_state():
    def program():
        opts = pulumi.ResourceOptions(id="inv-9", additional_secret_outputs=["token"])
        thing = Toy("inv", {}, opts)
        pulumi.export("token", thing.token)
        pulumi.export("endpoint", thing.endpoint)

    result = run_program(program, config=CONFIG, secret_keys=SECRET_KEYS)

    record = result.resource("inv")
    assert "token" in record.secret_outputs  # additional_secret_outputs
    assert "__provider" in record.secret_outputs  # secret input -> same-named output secret
    assert "endpoint" not in record.secret_outputs
    assert result.secret_outputs == {"token"}
    assert result.outputs["token"] == "tok-inv-9"
    # The provider was pickled before configure(): the secret reached the host, not the state.
    assert record.provider_blob
    assert b"sekret-123" not in base64.b64decode(record.provider_blob)
    assert "sekret-123" not in repr(result.resources)


def test_provider_error_fails_the_program_and_its_dependents_are_not_deployed():
    def program():
        opts = pulumi.ResourceOptions(id="abc")
        broken = Toy("broken", {"fail": "no such invocation: abc"}, opts)
        Toy("dependent", {"label": broken.token})
        Toy("after", {}, pulumi.ResourceOptions(depends_on=[broken]))
        pulumi.export("token", broken.token)

    with pytest.raises(ProgramError) as info:
        run_program(program)

    error = info.value
    assert "RuntimeError: no such invocation: abc" in error.message
    assert [(e.name, e.op) for e in error.resource_errors] == [("broken", "read")]
    assert error.resource_errors[0].urn.endswith("::broken")
    assert error.result is not None and error.result.resources == []


def test_program_exception_is_a_program_error():
    def program():
        Toy("fine", {}, pulumi.ResourceOptions(id="f"))
        raise ValueError("bad program")

    with pytest.raises(ProgramError) as info:
        run_program(program)

    assert info.value.resource_errors == []
    assert "ValueError: bad program" in info.value.message


def test_preview_runs_reads_but_not_creates():
    def program():
        pulumi.export("dry_run", pulumi.runtime.is_dry_run())
        read = Toy("read", {}, pulumi.ResourceOptions(id="r-1"))
        made = Toy("made", {"label": "p", "fail_on_create": "create must not run in preview"})
        pulumi.export("read_pid", read.host_pid)
        pulumi.export("made_id", made.id)
        pulumi.export("made_token", made.token)

    result = run_program(program, preview=True)

    assert result.preview and result.outputs["dry_run"] is True
    assert result.outputs["read_pid"] != os.getpid()  # read steps run in previews
    assert result.outputs["made_id"] == UNKNOWN  # no Create: id unknown ...
    assert result.outputs["made_token"] == UNKNOWN  # ... and outputs not among the inputs too
    assert result.resource("made").outputs["label"] == "p"  # checked inputs are the state

    with pytest.raises(ProgramError, match="create must not run in preview"):
        run_program(program)


def test_log_messages_are_captured():
    def program():
        thing = Toy("inv", {}, pulumi.ResourceOptions(id="i"))
        pulumi.log.info("waiting for inv", resource=thing)
        pulumi.log.warn("careful")
        pulumi.log.error("bad thing", resource=thing)
        pulumi.log.debug("not shown")

    result = run_program(program)

    urn = result.resource("inv").urn
    logs = sorted((r.severity, r.message, r.urn) for r in result.logs)
    assert logs == [
        ("error", "bad thing", urn),
        ("info", "waiting for inv", urn),
        ("warning", "careful", None),
    ]


def test_sequential_runs_are_isolated():
    def first():
        Toy("same", {}, pulumi.ResourceOptions(id="1"))
        pulumi.export("only_first", pulumi.Config("toy").get("endpoint"))

    def second():
        Toy("same", {}, pulumi.ResourceOptions(id="2"))
        pulumi.export("endpoint", pulumi.Config("toy").get("endpoint"))
        pulumi.export("stack", pulumi.get_stack())

    one = run_program(first, config=CONFIG, stack="one")
    two = run_program(second, stack="two")

    assert one.outputs == {"only_first": CONFIG["toy:endpoint"]}
    assert two.outputs == {"stack": "two"}  # a None export is dropped, as by the engine
    assert [r.urn for r in two.resources] == [
        "urn:pulumi:two::test::pulumi-python:dynamic/toy:Thing::same"
    ]
    assert "endpoint" not in two.resource("same").outputs  # the new host got the new config
    assert not pulumi.runtime.is_dry_run()
    assert pulumi.Config("toy").get("endpoint") is None  # nothing leaked into the caller


def test_forwarded_calls_overlap_up_to_the_hosts_four_workers():
    def program():
        for i in range(6):
            Toy(f"slow{i}", {"group": "overlap", "overlap": 4}, pulumi.ResourceOptions(id=f"s{i}"))

    result = run_program(program)

    seen = max(r.outputs["max_active"] for r in result.resources)
    assert len(result.resources) == 6
    assert 2 <= seen <= 4, seen  # not serialized by the harness; capped by the host's pool


def test_provider_host_can_be_shared_and_is_always_stopped():
    def program():
        thing = Toy("inv", {}, pulumi.ResourceOptions(id="i"))
        pulumi.export("host_pid", thing.host_pid)
        pulumi.export("marker", thing.marker)

    with ProviderHost(env={"TOY_MARKER": "from-host-env"}) as host:
        pid = host.pid
        assert host.running and pid != os.getpid()
        first = run_program(program, config=CONFIG, host=host)
        second = run_program(program, config=CONFIG, host=host)
        assert first.outputs["host_pid"] == second.outputs["host_pid"] == pid
        assert first.outputs["marker"] == "from-host-env"
        with pytest.raises(ValueError, match="configured"):
            run_program(program, config={"toy:endpoint": "other"}, host=host)
    assert not host.running
    _assert_process_gone(pid)


def test_env_reaches_the_host_and_the_program_and_is_restored():
    assert "TOY_MARKER" not in os.environ

    def program():
        thing = Toy("inv", {}, pulumi.ResourceOptions(id="i"))
        pulumi.export("host_marker", thing.marker)
        pulumi.export("program_marker", os.environ.get("TOY_MARKER"))

    result = run_program(program, env={"TOY_MARKER": "m-1"})

    assert result.outputs == {"host_marker": "m-1", "program_marker": "m-1"}
    assert "TOY_MARKER" not in os.environ


def test_run_program_file_runs_a_project_directory(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: fileproj\nruntime: python\n")
    (project / "data.txt").write_text("relative file\n")
    # A provider defined in the project itself: the host must import it from the project dir.
    (project / "fileproj_provider.py").write_text(textwrap.dedent('''
        import os
        from pulumi.dynamic import ReadResult, Resource, ResourceProvider

        class Provider(ResourceProvider):
            def read(self, id_, props):
                return ReadResult(id_, {"host_pid": os.getpid()})

        class Thing(Resource, module="proj", name="Thing"):
            def __init__(self, name, opts=None):
                super().__init__(Provider(), name, {"host_pid": None}, opts)
    '''))
    (project / "__main__.py").write_text(textwrap.dedent('''
        import pulumi
        from fileproj_provider import Thing

        thing = Thing("t", pulumi.ResourceOptions(id="t-1"))
        with open("data.txt") as f:
            pulumi.export("data", f.read().strip())
        pulumi.export("project", pulumi.get_project())
        pulumi.export("host_pid", thing.host_pid)
    '''))
    monkeypatch.chdir(tmp_path)  # the harness must not depend on the caller's cwd

    result = run_program_file(str(project / "__main__.py"))

    assert result.outputs["data"] == "relative file"
    assert result.outputs["project"] == "fileproj"
    assert result.outputs["host_pid"] != os.getpid()
    assert result.resource("t").urn.startswith("urn:pulumi:dev::fileproj::")
    assert os.getcwd() == str(tmp_path)
    assert str(project) not in __import__("sys").path
