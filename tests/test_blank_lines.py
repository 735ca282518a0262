"""PEP 8's blank lines (pycodestyle's E303, which no linter of the test extra checks): at most two in a row
at the top level, one inside a block, in the rooms that hold to it (the gate core, the CLI, the waiter)."""

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pulumi_fc_invocation"
ROOMS = ("gate", "cli", "waiter")


def too_many_blank_lines(text: str) -> list[str]:
    """The lines that follow too many blank ones: ``line N: M blank lines before it``."""
    found, blank = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            blank += 1
            continue
        if blank > (1 if line[:1].isspace() else 2):
            found.append(f"line {number}: {blank} blank lines before it")
        blank = 0
    return found


def test_the_check_finds_too_many_blank_lines():
    assert too_many_blank_lines("a = 1\n\n\ndef f():\n    x = 1\n\n    return x\n") == []
    assert too_many_blank_lines("a = 1\n\n\n\ndef f():\n    x = 1\n\n\n    return x\n") == [
        "line 5: 3 blank lines before it", "line 9: 2 blank lines before it"]


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_has_no_run_of_too_many_blank_lines(room):
    found = {str(path.relative_to(PACKAGE)): lines for path in sorted((PACKAGE / room).rglob("*.py"))
             if (lines := too_many_blank_lines(path.read_text(encoding="utf-8")))}
    assert found == {}
