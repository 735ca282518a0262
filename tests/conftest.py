"""Shared test plumbing: the real Pulumi CLI for the end-to-end tests, and figures a test reports
(``record_property("cost", line)``), which go to the end of the run, not into pytest's progress dots."""

import pytest

from pulumi_fc_invocation.testing.pulumi_cli import find_pulumi


@pytest.fixture(scope="session")
def pulumi_bin() -> str:
    """The CLI of `make engine` (or FC_INVOCATION_PULUMI): a missing one fails, never skips."""
    found = find_pulumi()
    if not found:
        pytest.fail("no Pulumi CLI: run `make engine` (needs Go) or set FC_INVOCATION_PULUMI=/path/to/pulumi")
    return found


def pytest_terminal_summary(terminalreporter):
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "cost":
                terminalreporter.write_line(str(value))
