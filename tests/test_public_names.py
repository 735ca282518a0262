"""The public names of 0.1 still import (issue 25, outcome 8): a snapshot of the contract taken from main
before the reshape, written out here so that a move that drops a name fails. A name that moves may warn
(DeprecationWarning) but must still resolve; the README's and pyproject's current names are checked too."""

import importlib
import importlib.util
import re
import tomllib
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# pulumi_fc_invocation.__all__ on 2026-12-05 (before issue 25).
TOP_LEVEL = (
    "__version__",
    "FcInvocationError", "InvalidArgumentError", "ConfigurationError", "FcApiError", "BadRequestError",
    "AuthenticationError", "NotFoundError", "ConflictError", "ThrottledError", "ServerError",
    "InvalidResponseError", "RedirectError", "PaginationError", "ResponseTooLargeError", "TransportError",
    "UnreachableError", "RequestTimeoutError", "InvocationFailedError", "WaitTimeoutError",
    "Credentials", "RefreshableCredentials", "FcClient", "InvocationRef", "InvocationStatus", "InvocationEvent",
    "StatefulAsyncInvocationResult", "AsyncTaskRef", "AsyncTaskResult",
    "StatefulAsyncInvocation", "StatefulAsyncInvocations", "AsyncTask", "AsyncTasks",
    "get_stateful_async_invocation", "get_stateful_async_invocation_output", "GetStatefulAsyncInvocationResult",
    "get_stateful_async_invocations", "get_stateful_async_invocations_output", "GetStatefulAsyncInvocationsResult",
    "get_async_task", "get_async_task_output", "GetAsyncTaskResult",
    "get_async_tasks", "get_async_tasks_output", "GetAsyncTasksResult",
    "StatefulAsyncInvocationProvider", "StatefulAsyncInvocationsProvider", "AsyncTaskProvider", "AsyncTasksProvider",
    "for_operation",
    "WaitPolicy", "Waiter", "DurationHistory", "DurationEstimate", "history_for", "batch_history", "durations_of",
)

# pulumi_fc_invocation.testing.__all__ on 2026-12-05.
TESTING = (
    "AutoAdvanceClock",
    "run_program", "run_program_file", "ProviderHost", "ProgramResult", "ProgramError", "ResourceRecord",
    "LogRecord", "UNKNOWN",
    "FcEmulator", "IdentityServices", "PulumiCli", "CliResult", "find_pulumi", "Clock", "RealClock",
    "VirtualClock", "Fault", "RequestRecord", "Script", "Step", "InvocationState", "EmulatorError",
    "ScenarioError", "load_scenario", "lifecycle", "TERMINAL_STATUSES",
    "DEFAULT_ACCESS_KEY_ID", "DEFAULT_ACCESS_KEY_SECRET", "DEFAULT_ACCOUNT_ID",
)

# Named by COMMON.md / the issue, and every `from pulumi_fc_invocation... import` of README.md on 2026-12-05
# (before the README's examples moved to docs/).
NAMED = (
    ("pulumi_fc_invocation.waiter", "use_clock"),
    ("pulumi_fc_invocation.credentials", "resolve_settings"),
    ("pulumi_fc_invocation.testing.identity", "IdentityServices"),
    ("pulumi_fc_invocation", "AsyncTask"),
    ("pulumi_fc_invocation", "AsyncTaskRef"),
    ("pulumi_fc_invocation", "FcClient"),
    ("pulumi_fc_invocation", "InvocationFailedError"),
    ("pulumi_fc_invocation", "InvocationRef"),
    ("pulumi_fc_invocation", "StatefulAsyncInvocation"),
    ("pulumi_fc_invocation", "for_operation"),
    ("pulumi_fc_invocation.testing", "AutoAdvanceClock"),
    ("pulumi_fc_invocation.testing", "FcEmulator"),
    ("pulumi_fc_invocation.testing", "ProgramError"),
    ("pulumi_fc_invocation.testing", "PulumiCli"),
    ("pulumi_fc_invocation.testing", "run_program"),
    ("pulumi_fc_invocation.testing", "run_program_file"),
    # Issue 28's runs (a contract: code outside this repository uses them).
    ("pulumi_fc_invocation", "AsyncTaskRun"),
    ("pulumi_fc_invocation", "StatefulAsyncInvocationRun"),
)

# pyproject.toml's [project.scripts] and the pytest11 entry point.
CONSOLE_SCRIPTS = {
    "fc-invocation": "pulumi_fc_invocation.cli:main",
    "pulumi-resource-fc-invocation": "pulumi_fc_invocation.plugin:main",
}
PYTEST_PLUGINS = {"fc_invocation": "pulumi_fc_invocation.testing.pytest_plugin"}

# The plugin's other ways in: `python -m pulumi_fc_invocation.plugin`, the launcher's boot line
# (`from pulumi_fc_invocation.plugin import main`), --pack/--install, and the server --pack checks for.
PLUGIN_ENTRIES = (
    ("pulumi_fc_invocation.plugin", "main"),
    ("pulumi_fc_invocation.plugin.pack", "pack"),
    ("pulumi_fc_invocation.plugin.pack", "install"),
    ("pulumi_fc_invocation.plugin.server", "main"),
)
RUNNABLE_MODULES = ("pulumi_fc_invocation.plugin.__main__",)


def resolve(module: str, name: str):
    """``from module import name``, allowing a DeprecationWarning (a moved name) and nothing else."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        mod = importlib.import_module(module)
        if not hasattr(mod, name):  # `from pkg import submodule` works too
            importlib.import_module(f"{module}.{name}")
        return getattr(mod, name)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_name_is_exported_and_imports(name):
    import pulumi_fc_invocation

    assert name in pulumi_fc_invocation.__all__
    assert resolve("pulumi_fc_invocation", name) is not None


@pytest.mark.parametrize("name", TESTING)
def test_testing_name_is_exported_and_imports(name):
    import pulumi_fc_invocation.testing

    assert name in pulumi_fc_invocation.testing.__all__
    assert resolve("pulumi_fc_invocation.testing", name) is not None


@pytest.mark.parametrize("module, name", NAMED)
def test_named_public_name_imports(module, name):
    assert resolve(module, name) is not None


@pytest.mark.parametrize("package", ["pulumi_fc_invocation", "pulumi_fc_invocation.testing"])
def test_every_current_all_name_imports(package):
    """A name added since the snapshot is held to the same rule."""
    names = importlib.import_module(package).__all__
    missing = [name for name in names if resolve(package, name) is None]
    assert not missing


def documented_imports() -> list[tuple[str, str, str]]:
    """Every ``from pulumi_fc_invocation... import`` in the code blocks of README.md and docs/ (the README's
    examples moved to the docs site): (file, module, name)."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"^\s*```[^\n]*\n(.*?)^\s*```", text, re.S | re.M):
            for match in re.finditer(r"^\s*from (pulumi_fc_invocation[\w.]*) import (\([^)]*\)|[^\n]*)", block, re.M):
                names = match.group(2).split("#")[0].strip("() \n").replace("\n", " ")
                found += [(path.name, match.group(1), n.split(" as ")[0].strip())
                          for n in names.split(",") if n.strip()]
    return found


def test_every_documented_import_still_imports():
    found = documented_imports()
    assert len(found) >= 10, found  # the parser still finds the documents' imports
    for where, module, name in found:
        assert resolve(module, name) is not None, (where, module, name)


def test_console_scripts_and_pytest_plugin_are_declared_and_resolve():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert {k: project["scripts"].get(k) for k in CONSOLE_SCRIPTS} == CONSOLE_SCRIPTS
    assert {k: project["entry-points"]["pytest11"].get(k) for k in PYTEST_PLUGINS} == PYTEST_PLUGINS
    for target in project["scripts"].values():
        module, _, function = target.partition(":")
        assert callable(resolve(module, function)), target
    for module in project["entry-points"]["pytest11"].values():
        assert importlib.import_module(module) is not None


@pytest.mark.parametrize("module, name", PLUGIN_ENTRIES)
def test_plugin_entry_points_resolve(module, name):
    assert callable(resolve(module, name))


@pytest.mark.parametrize("module", RUNNABLE_MODULES)
def test_python_dash_m_modules_exist(module):
    assert importlib.util.find_spec(module) is not None


def test_version_is_a_string():
    import pulumi_fc_invocation

    assert re.fullmatch(r"\d+\.\d+\.\d+.*", pulumi_fc_invocation.__version__)
