"""pytest plugin (entry point ``pytest11: fc_invocation``): the ``fc_emulator`` fixture.

Registered for every project that installs this package, so it must stay cheap to import: the
emulator is imported inside the fixture, not at module level.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def fc_emulator():
    """A started :class:`~pulumi_fc_invocation.testing.FcEmulator` on a free loopback port, with a
    virtual clock (advance it with ``fc_emulator.advance(seconds)``); stopped after the test."""
    from pulumi_fc_invocation.testing.server import FcEmulator

    with FcEmulator(clock="virtual") as emulator:
        yield emulator
