"""Figures a test reports (``record_property("cost", line)``) go to the end of the run, not into the
middle of pytest's progress dots."""


def pytest_terminal_summary(terminalreporter):
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "cost":
                terminalreporter.write_line(str(value))
