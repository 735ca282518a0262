"""pytest plugin (entry point ``pytest11: fc_invocation``): the ``fc_emulator`` and ``fc_identity`` fixtures.

Registered for every project that installs this package, so it must stay cheap to import: the
emulator is imported inside the fixture, not at module level.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def fc_emulator():
    """A started :class:`~pulumi_fc_invocation.testing.FcEmulator` on a free loopback port, with a
    virtual clock; stopped after the test.

    Every waiter of the test (gates, ``wait_for_invocation``) runs on an ``AutoAdvanceClock`` over
    that clock, so a program that waits for a two-hour task ends in milliseconds instead of hanging
    on a clock nobody moves. ``fc_emulator.advance(seconds)`` still moves it by hand.
    """
    from pulumi_fc_invocation.testing.server import FcEmulator
    from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
    from pulumi_fc_invocation.clock import use_clock

    with FcEmulator(clock="virtual") as emulator, use_clock(AutoAdvanceClock(emulator.clock)):
        yield emulator


@pytest.fixture
def fc_identity(fc_emulator):
    """Started :class:`~pulumi_fc_invocation.testing.IdentityServices` (STS, ECS metadata and
    credentials-URI stand-ins) over ``fc_emulator``: every key they issue is registered with it and
    expires on its clock; stopped after the test."""
    from pulumi_fc_invocation.testing.identity import IdentityServices

    with IdentityServices(fc_emulator) as services:
        yield services
