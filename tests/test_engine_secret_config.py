"""A secret stack setting that breaks its rule, through the real Pulumi CLI (issue 24 item 12).

``pulumi refresh --run-program`` gives no verdict in the program (it only records), so the read in
the dynamic provider host is the one that meets the setting; the host is configured without the
engine's secret marks, so it shows none of these settings' values.
"""

from __future__ import annotations

import pytest

from pulumi_fc_invocation.testing import FcEmulator
from pulumi_fc_invocation.testing.pulumi_cli import PulumiCli

PROGRAM = '''
import pulumi
from pulumi_fc_invocation import AsyncTasks

batch = AsyncTasks("batch", function_name="calm", task_id_prefix="c-")
pulumi.export("total", batch.total)
'''


@pytest.fixture
def fc():
    with FcEmulator(clock="real") as emulator:
        start = emulator.now() - 600
        for i in range(2):
            emulator.add_invocation(None, "calm", f"c-{i}", started_at=start + i, timeline=[("Succeeded", 1)])
        yield emulator


@pytest.mark.parametrize("key, value, tells", [
    ("alicloud:accountId", "9876543210-987654", ["98765", "987654"]),
    ("fc-invocation:endpoint", "fc-hidden.example:9000\n", ["fc-hidden", "9000"]),
], ids=["accountId", "endpoint"])
def test_refresh_never_shows_a_secret_stack_setting_that_breaks_its_rule(fc, tmp_path, pulumi_bin, key, value, tells):
    (tmp_path / "Pulumi.yaml").write_text("name: hushed\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    with PulumiCli(tmp_path, pulumi=pulumi_bin) as cli:
        cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})
        up = cli.up()
        assert up.ok and cli.outputs()["total"] == 2, up.output
        cli.config({key: value}, secret_keys={key})
        refresh = cli.refresh("--run-program")
        assert not refresh.ok, refresh.output
        assert key in refresh.output and "not shown" in refresh.output, refresh.output
        assert not [tell for tell in tells if tell in refresh.output], refresh.output
