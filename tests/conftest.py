"""Shared test plumbing: the real Pulumi CLI for the end-to-end tests; the fixtures test modules share (the
emulated stack, the CLI in this process, the plugin over gRPC; their constants and helpers in _emulated.py
and _plugin_rpc.py); and figures a test reports (``record_property("cost", line)``), which go to the end of
the run, not into pytest's progress dots."""

from concurrent import futures

import pytest

from _emulated import APIS, CLEAN_ENV, KEY_ID, SECRET, SECRET_KEYS, TOKEN
from _engine import PROGRAM
from _plugin_rpc import Engine, configured, started
from pulumi_fc_invocation.testing.pulumi_cli import find_pulumi


@pytest.fixture(scope="session")
def pulumi_bin() -> str:
    """The CLI of `make engine` (or FC_INVOCATION_PULUMI): a missing one fails, never skips."""
    found = find_pulumi()
    if not found:
        pytest.fail("no Pulumi CLI: run `make engine` (needs Go) or set FC_INVOCATION_PULUMI=/path/to/pulumi")
    return found


# --- Shared fixtures (T2) ---------------------------------------------------------------------------------
# The emulated stack of the data-source tests (module-scoped: one emulator, one provider host per module),
# and the plugin over gRPC. A module that needs another emulator (a real clock, other credentials) defines
# its own ``fc``; the fixtures below then use that one.


@pytest.fixture(scope="module")
def fc(request):
    """The emulator, knowing the stack's credentials (tests/_emulated.py), on a virtual clock unless the module
    says ``EMULATOR_CLOCK = "real"`` (a plugin process that waits on its own clock)."""
    from pulumi_fc_invocation.testing.server import FcEmulator

    clock = getattr(request.module, "EMULATOR_CLOCK", "virtual")
    with FcEmulator(clock=clock, access_key_id="LTAIunusedDefaultKey", access_key_secret="unused-default") as emu:
        emu.add_credentials(KEY_ID, SECRET, TOKEN)
        yield emu


@pytest.fixture(scope="module")
def config(fc):
    """The stack config a program runs with: the credentials, the account and the emulator's endpoint."""
    return {"alicloud:accessKey": KEY_ID, "alicloud:secretKey": SECRET, "alicloud:securityToken": TOKEN,
            "alicloud:accountId": fc.account_id, "fc-invocation:endpoint": fc.endpoint}


@pytest.fixture(scope="module")
def host(config):
    """A real dynamic-provider host process, configured once, that sees none of the machine's credentials."""
    from pulumi_fc_invocation.testing.harness import ProviderHost

    with ProviderHost(env=CLEAN_ENV) as h:
        h.configure(config, secret_keys=SECRET_KEYS)
        yield h


@pytest.fixture
def run(fc, config, host):
    """``run(program, preview=False, timeline=None, clock=None)``: the program under the harness's mocks, its
    waits on an AutoAdvanceClock over the emulator's clock (or over ``timeline``, a clock that also acts as
    time passes), or on ``clock`` itself."""
    from pulumi_fc_invocation.clock import use_clock
    from pulumi_fc_invocation.testing.harness import run_program
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock

    def runner(program, preview=False, timeline=None, clock=None):
        with use_clock(clock or AutoAdvanceClock(timeline or fc.clock)):
            return run_program(program, config=config, secret_keys=SECRET_KEYS, preview=preview, host=host)
    return runner


@pytest.fixture(params=APIS, ids=lambda api: api.name)
def api(request):
    """Each FC API in turn (tests/_emulated.py's table), for a behaviour both have with their own ids."""
    return request.param


@pytest.fixture
def fresh(fc):
    """Gates read their functions' histories afresh, with no fault left over and an empty request log (a
    module of gate tests takes it for each test: ``pytestmark = pytest.mark.usefixtures("fresh")``)."""
    from pulumi_fc_invocation.gate.clients import forget_histories

    forget_histories()
    fc.clear_faults()
    fc.reset_requests()
    yield
    fc.clear_faults()


@pytest.fixture
def cli(fc_emulator, monkeypatch, tmp_path, capsys):
    """``cli(*args) -> (exit code, stdout, stderr)``: the CLI in this process, on the emulator's clock."""
    import logging
    import os

    from pulumi_fc_invocation.cli import main

    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "FC_INVOCATION_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    for key, value in fc_emulator.env().items():
        monkeypatch.setenv(key, value)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    root.handlers[:] = handlers  # -v adds a stderr handler to the root logger
    root.setLevel(level)


@pytest.fixture
def project(tmp_path):
    """The FC 2.0 gates project of the real-engine tests (tests/_engine.py), in a fresh directory."""
    (tmp_path / "Pulumi.yaml").write_text("name: gates\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    return tmp_path


@pytest.fixture(scope="module")
def engine():
    """A stand-in engine on a free port that records the plugin's Log calls (tests/_plugin_rpc.py)."""
    import grpc
    from pulumi.runtime.proto import engine_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = Engine()
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    servicer.address = f"127.0.0.1:{port}"
    yield servicer
    server.stop(0)


@pytest.fixture(scope="module")
def plugin(engine):
    """The real plugin process, its provider stub (not configured)."""
    with started(engine) as stub:
        yield stub


@pytest.fixture(scope="module")
def ready(plugin, fc):
    """The plugin configured for the module's emulator."""
    configured(plugin, fc)
    return plugin


def pytest_terminal_summary(terminalreporter):
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "cost":
                terminalreporter.write_line(str(value))


# --- The tiers (T1) -------------------------------------------------------------------------------------
# Every marker is applied here, from what a test uses, so that a new real-engine test cannot land in the
# fast lane by forgetting a decorator. `make test-fast` runs -m "not engine and not slow"; `make test` all.

# Tests that need `make engine`'s build by a path no fixture or import shows (a subprocess that finds the
# CLI itself; the Node.js language host run directly).
ENGINE_ELSEWHERE = {
    "test_demo.py::test_make_demo_through_the_real_pulumi_cli",
    "test_official_host.py::test_nodejs_run_passes_the_official_arguments_and_cancel_interrupts_the_program",
}
# Without the engine, about 10 s or more each here (2 shared cores, pytest --durations): the soak, the fault
# matrix, the wheel build, the benchmarks' smoke run (63 s), venvs made by pip, plugin processes per case.
SLOW = {
    "test_soak.py",
    "test_reliability_faults.py",
    "test_benchmarks_smoke.py",
    "test_secret_config_after_client.py",  # a plugin process and a wait per case: 8 to 42 s each
    "test_types.py",  # mypy over the package and a user's program: 15 to 19 s each
    "test_docs_site.py",  # a strict MkDocs build per test: 6 to 11 s each
    "test_packaging.py::test_the_wheel_ships_plugin_json_and_the_console_script_and_no_plugin_directory_at_one_version",
    "test_official_host.py::test_install_dependencies_of_a_plugin_creates_its_venv_and_then_it_runs",
    "test_data_source.py::test_transient_503s_during_a_wait_are_survived",
    "test_secret_hygiene.py::test_no_secret_anywhere_a_user_or_attacker_can_read",
    "test_secret_hygiene.py::test_no_role_credential_secret_anywhere",
    "test_retention.py::test_the_plugin_keeps_the_recorded_state_in_a_refresh_and_names_the_retention_otherwise",
    "test_demo.py::test_make_demo_main_job_runs_and_shows_progress_and_outputs",  # --harness, real clock: ~8 s
    "test_demo.py::test_make_demo_api_fc2_runs_the_fc2_program_beside_it",  # --harness, real clock: ~8 s
    "test_demo.py::test_the_first_make_demo_installs_the_package_without_a_setuptools_banner",  # pip -e: ~15 s
    # A hung STS on the real clock: two 5 s gates (the data source's and the form's) per case: ~11 s each.
    "test_gate_final_read.py::test_a_function_form_whose_reads_stopped_on_a_hung_sts_says_so_as_the_data_source_does",
    "test_gate_final_read.py::test_a_function_form_whose_sts_never_answered_says_what_the_data_source_says",
}
SLOW_FIXTURES = {"probe_venv"}  # a venv with made-up distributions, made by pip: 12 to 17 s


def _runs_the_engine(item) -> bool:
    from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

    module = getattr(item, "module", None)
    return (
        "pulumi_bin" in getattr(item, "fixturenames", ())  # transitively: a fixture that needs the CLI
        or item.path.name.startswith("test_engine")
        or getattr(module, "PulumiCli", None) is PulumiCli
        or getattr(module, "auto", None) is not None and getattr(module.auto, "__name__", "") == "pulumi.automation"
        or _named(item, ENGINE_ELSEWHERE)
    )


def _named(item, names: set[str]) -> bool:
    file_test = f"{item.path.name}::{item.originalname}" if hasattr(item, "originalname") else item.path.name
    return item.path.name in names or file_test in names


def pytest_collection_modifyitems(config, items):
    from pathlib import Path

    here = Path(__file__).parent
    gone = sorted(name for name in ENGINE_ELSEWHERE | SLOW if not (here / name.split("::")[0]).is_file())
    if gone:  # a file renamed: its tier would silently be lost
        raise pytest.UsageError(f"tests/conftest.py names test files that do not exist: {', '.join(gone)}")
    renamed = sorted(name for name in ENGINE_ELSEWHERE | SLOW if "::" in name
                     and f"def {name.split('::')[1]}(" not in (here / name.split("::")[0]).read_text())
    if renamed:  # a test renamed: its tier would silently be lost
        raise pytest.UsageError(f"tests/conftest.py names tests that do not exist: {', '.join(renamed)}")
    for item in items:
        if _runs_the_engine(item):
            item.add_marker(pytest.mark.engine)
        if _named(item, SLOW) or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
