"""Through the real engine: a bad argument in a program reads as one line, as a pulumi.RunError does.

Before, the language host printed "Program failed with an unhandled exception" and 31-39 lines of
SDK frames above the one line that mattered.
"""

import pathlib

from pulumi_fc_invocation.testing import FcEmulator, PulumiCli

PROGRAM = '''
from pulumi_fc_invocation import StatefulAsyncInvocation
StatefulAsyncInvocation("build", service_name="9bad", function_name="train", invocation_id="model-42")
'''


def test_a_bad_argument_is_shown_by_the_engine_without_a_traceback(tmp_path):
    project = pathlib.Path(tmp_path, "project")
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: ml\nruntime: python\n")
    with FcEmulator(clock="real") as fc, PulumiCli(project, program=PROGRAM) as cli:
        cli.config(fc.stack_config(), secret_keys=["alicloud:secretKey"])
        up = cli.up()
    assert not up.ok
    assert "error: invalid service_name '9bad': must be 1-128 letters" in up.output, up.output
    assert "Traceback" not in up.output and "unhandled exception" not in up.output, up.output
