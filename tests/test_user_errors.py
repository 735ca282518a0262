"""Issue 27, points 1 and 2, for Python programs, through the real Pulumi CLI: every error a user can cause
or meet (configuration, credentials, authentication, network, validation) is one line naming the setting and
the fix, with no ``Traceback`` anywhere in the CLI's output; and a plain ``pulumi refresh`` whose stored
settings no longer work (endpoint, region, account, credentials) says so and names the fix.

Before (issue 27): 53 to 70 lines each, ending in the Python traceback of the program or of the provider
host (``ConfigurationError: incomplete credentials ...``, ``AuthenticationError: SignatureNotMatch``,
``UnreachableError: ... cannot reach``); a stale endpoint in a plain refresh, a 58-line traceback.

One project, one stack and one emulator for the module (a program picks its data source or function form
from ``errs:form``); each case sets the config it needs.
"""

from __future__ import annotations

import pathlib
import socket

import pytest

from pulumi_fc_invocation.testing import FcEmulator, PulumiCli

pytestmark = pytest.mark.engine

PROGRAM = '''
import pulumi
import pulumi_fc_invocation as fci

cfg = pulumi.Config()
form = cfg.require("form")
if form == "single2":
    pulumi.export("status", fci.StatefulAsyncInvocation(
        "g", service_name="svc", function_name="fn", invocation_id="job-1", timeout_seconds=20).status)
elif form == "batch2":
    pulumi.export("total", fci.StatefulAsyncInvocations("g", service_name="svc", function_name="fn").total)
elif form == "single3":
    pulumi.export("status", fci.AsyncTask("g", function_name="fn3", task_id="t1", timeout_seconds=20).status)
elif form == "batch3":
    pulumi.export("total", fci.AsyncTasks("g", function_name="fn3").total)
elif form == "get3":
    pulumi.export("status", fci.get_async_task("fn3", "t1").status)
elif form == "get3out":
    pulumi.export("status", fci.get_async_task_output("fn3", "t1").status)
elif form == "get2s":
    pulumi.export("total", fci.get_stateful_async_invocations("svc", "fn").total)
elif form == "three":  # three gates on one client
    for name in ("g1", "g2", "g3"):
        fci.AsyncTask(name, function_name="fn3", task_id="t1")
elif form == "get2out":
    pulumi.export("status", fci.get_stateful_async_invocation_output("svc", "fn", "job-1").status)
'''
OTHER_KEY, OTHER_SECRET = "LTAIotherKeyForRefresh", "other-secret-for-refresh"


def seed(fc: FcEmulator) -> None:
    fc.add_function("svc", "fn")
    fc.add_invocation("svc", "fn", "job-1", outcome="Succeeded", duration=0)
    fc.add_function(None, "fn3")
    fc.client().invoke_async_task("fn3", "{}", task_id="t1")


@pytest.fixture(scope="module")
def fc():
    with FcEmulator(clock="real") as emulator:
        seed(emulator)
        emulator.add_credentials(OTHER_KEY, OTHER_SECRET)
        yield emulator


@pytest.fixture(scope="module")
def cli(fc, pulumi_bin, tmp_path_factory):
    project = pathlib.Path(tmp_path_factory.mktemp("errs"))
    (project / "Pulumi.yaml").write_text("name: errs\nruntime: python\n")
    (project / "__main__.py").write_text(PROGRAM)
    with PulumiCli(project, pulumi=pulumi_bin) as c:
        yield c


@pytest.fixture
def closed_port():
    """A local port bound and never listening: connections are refused at once, and no one else takes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def configure(cli: PulumiCli, fc: FcEmulator, form: str, **changes: str) -> None:
    """The stack's config: the emulator's settings, with ``changes`` (a value "" removes the key)."""
    values = {**fc.stack_config(), "errs:form": form, **changes}
    pairs = [("--secret" if k == "alicloud:secretKey" else "--plaintext", f"{k}={v}") for k, v in values.items() if v]
    cli.run("config", "set-all", *(part for pair in pairs for part in pair), check=True)  # one process, not one a key
    removed = [k for k, v in values.items() if v == ""]
    if removed:
        cli.run("config", "rm-all", *removed, check=True)


def one_clear_line(result, *named: str) -> str:
    """The run failed, without a traceback, and one error line names each of ``named``."""
    out = result.output
    assert not result.ok, out
    assert "Traceback" not in out and "unhandled exception" not in out, out
    assert "Resource monitor has terminated" not in out, out  # the line after a program's traceback (issue 27)
    lines = [line for line in out.splitlines() if line.strip().startswith("error: ") and all(n in line for n in named)]
    assert lines, out
    return lines[0]


@pytest.mark.parametrize("form,operation", [("single2", "preview"), ("batch3", "up"), ("single3", "up"),
                                            ("get2out", "up")])
def test_a_missing_secret_key_names_the_setting(cli, fc, form, operation):
    configure(cli, fc, form, **{"alicloud:secretKey": ""})
    line = one_clear_line(getattr(cli, operation)(), "`alicloud:secretKey`")
    assert "set `" in line or "set " in line, line


@pytest.mark.parametrize("form,operation", [("single3", "preview"), ("batch2", "up"), ("get3out", "preview"),
                                            ("get2s", "up")])
def test_a_wrong_secret_names_the_setting_and_the_fix(cli, fc, form, operation):
    configure(cli, fc, form, **{"alicloud:secretKey": "not-the-secret"})
    line = one_clear_line(getattr(cli, operation)(), "SignatureNotMatch", "`alicloud:secretKey`")
    assert "refused the credentials" in line and "set the right secret" in line and "request id" in line, line
    assert "String to sign" not in line and "not-the-secret" not in line, line


@pytest.mark.parametrize("form,operation", [("single3", "preview"), ("batch2", "up"), ("get3", "preview"),
                                            ("single2", "refresh")])
def test_an_unreachable_endpoint_names_the_setting(cli, fc, closed_port, form, operation):
    configure(cli, fc, form, **{"fc-invocation:endpoint": closed_port})
    run = cli.refresh("--run-program") if operation == "refresh" else getattr(cli, operation)()
    line = one_clear_line(run, "cannot reach Function Compute", "`fc-invocation:endpoint`")
    assert closed_port in line and "Connection refused" in line, line


def test_an_answer_cut_off_names_the_setting(cli, fc):
    # Before: the blocking function form said the transport's words alone (no setting, no fix); a data source's
    # preview read again in the provider host: a traceback ending TransportError.
    for form in ("get3", "single3"):
        configure(cli, fc, form)
        fc.inject_fault(route="*", truncate=True, times=None)
        try:
            one_clear_line(cli.preview(), "cut off or corrupt", "`fc-invocation:endpoint`", "and the network")
        finally:
            fc.clear_faults()


@pytest.mark.parametrize("form,key,value,rule", [
    ("batch2", "fc-invocation:endpoint", "127.0.0.1:9000", "no scheme; write it in full, e.g. http://127.0.0.1:9000"),
    ("single3", "alicloud:accountId", "acct-12", "must be the account's digits"),
    ("get3out", "alicloud:region", "cn/hangzhou", "must be a region id"),
])
def test_a_setting_that_breaks_its_rule_is_one_line_naming_it(cli, fc, form, key, value, rule):
    configure(cli, fc, form, **{key: value})
    one_clear_line(cli.preview(), rule, f"`{key}`")


def test_destroy_run_program_with_settings_that_fail_is_not_blocked(cli, fc):
    configure(cli, fc, "single2")
    assert cli.up().ok
    configure(cli, fc, "single2", **{"alicloud:secretKey": "not-the-secret"})
    refresh = cli.refresh("--run-program")  # the current settings are read first, in the program: one line
    one_clear_line(refresh, "SignatureNotMatch", "`alicloud:secretKey`")
    destroy = cli.destroy("--run-program")
    assert destroy.ok and "Traceback" not in destroy.output, destroy.output
    assert "forgotten by this destroy" in destroy.output and "SignatureNotMatch" in destroy.output, destroy.output


def _stale_refresh(cli, *named: str, output: str = "status", recorded: object = "Succeeded") -> None:
    refresh = cli.refresh()
    out = refresh.output
    assert refresh.ok and "Traceback" not in out, out
    # `pulumi refresh --yes` reads each resource twice: its preview, then the refresh that records; the warning
    # must come from the one that records (a fault left for it alone would let it record what it read).
    _, recording = out.split("Refreshing (", 1)
    warned = [line for line in recording.splitlines() if "keeping the state last recorded" in line]
    assert warned and all(n in warned[0] for n in named), out
    assert "pulumi refresh --run-program" in warned[0] and "settings stored in the stack's state" in warned[0], out
    kept = [r for r in cli.resources() if r["urn"].endswith("::g")]
    assert kept and kept[0]["outputs"][output] == recorded, kept


def test_a_plain_refresh_with_stored_settings_that_no_longer_work(cli, fc, pulumi_bin):
    # Credentials: `up` stored another key, which FC no longer knows; the config has the right one now.
    configure(cli, fc, "single2", **{"alicloud:accessKey": OTHER_KEY, "alicloud:secretKey": OTHER_SECRET})
    assert cli.up().ok
    fc.remove_credentials(OTHER_KEY)
    configure(cli, fc, "single2")
    _stale_refresh(cli, "`alicloud:accessKey`", "`alicloud:secretKey`", "InvalidAccessKeyID")
    # --run-program reads (and stores) the current settings.
    assert cli.refresh("--run-program").ok
    # FC answers 403 AccessDenied (what a stored account that is not the endpoint's gets), to both reads.
    fc.inject_fault(route="*", status=403, code="AccessDenied", times=2)
    _stale_refresh(cli, "`alicloud:accountId`", "AccessDenied")
    # FC answers 404 ServiceNotFound (what a stored region or account without the function gets), to both reads.
    fc.inject_fault(route="*", status=404, code="ServiceNotFound", times=2)
    _stale_refresh(cli, "`alicloud:region`", "ServiceNotFound")
    # The answers are cut off (a network fault), to both reads.
    fc.inject_fault(route="*", truncate=True, times=None)
    try:
        _stale_refresh(cli, "`fc-invocation:endpoint`", "cut off or corrupt")
    finally:
        fc.clear_faults()
    # Endpoint: `up` stored an endpoint that has moved since.
    with FcEmulator(clock="real", account_id=fc.account_id, access_key_id=fc.credentials.access_key_id,
                    access_key_secret=fc.credentials.access_key_secret) as old:
        seed(old)
        configure(cli, fc, "single2", **{"fc-invocation:endpoint": old.endpoint})
        assert cli.up().ok
    configure(cli, fc, "single2")
    _stale_refresh(cli, "`fc-invocation:endpoint`", "cannot reach Function Compute")
    after = cli.refresh("--run-program")
    assert after.ok and "keeping the state" not in after.output, after.output
    # A batch (FC 3.0) keeps its state the same way.
    configure(cli, fc, "batch3")
    assert cli.up().ok
    fc.inject_fault(route="*", status=403, code="InvalidAccessKeyID", times=2)
    _stale_refresh(cli, "`alicloud:accessKey`", "InvalidAccessKeyID", output="total", recorded=1)


def test_refresh_run_program_checks_the_settings_once_per_client(cli, fc):
    # Before: each gate read once in the program to check the settings, then again in the engine (3 gates: 6).
    configure(cli, fc, "three")
    assert cli.up().ok
    fc.reset_requests()
    assert cli.refresh("--skip-preview").ok
    engine_reads = fc.request_count()
    fc.reset_requests()
    refresh = cli.refresh("--run-program", "--skip-preview")
    assert refresh.ok, refresh.output
    assert (engine_reads, fc.request_count()) == (3, 4), [(r.route, r.invocation_id) for r in fc.requests]
