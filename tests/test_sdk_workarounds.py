"""The workarounds of Pulumi SDK defects (issue 23, item 5): each applies where the installed SDK's code
is the code it was verified against (a fingerprint of that code's source, not a version string), and
otherwise leaves the SDK alone and says so once in the program's log. ``make test`` runs this file on
the floor of pyproject.toml (pulumi 3.271.0) and on the newest SDK served."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FINGERPRINTS = """
import json
from pulumi_fc_invocation import sdk_workarounds as program
print(json.dumps({name: program.sdk_fingerprint(name) for name in program.SDK_WORKAROUNDS}))
"""


def run_python(code: str, *args: str, pythonpath: tuple = ()) -> str:
    """``code`` in a fresh interpreter (nothing replaced yet), ``pythonpath`` first; its last stdout line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), str(ROOT)])}
    for key in [key for key in env if key.startswith(("ALIBABA_CLOUD_", "FC_INVOCATION_"))]:
        del env[key]
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.strip().splitlines()[-1]


def test_this_sdk_is_one_the_workarounds_were_verified_against(record_property):
    """Every SDK the suite runs on (the floor, the newest) has code that was read: a fingerprint listed
    as verified (the workaround applies) or as fixed upstream (nothing to do). A new SDK whose code
    changed fails here until someone reads it and lists its fingerprint."""
    from pulumi_fc_invocation.sdk_workarounds import FIXED_SDK_FINGERPRINTS, VERIFIED_SDK_FINGERPRINTS

    found = json.loads(run_python(FINGERPRINTS))
    record_property("cost", f"pulumi {version('pulumi')}: SDK fingerprints {found}")
    assert set(found) == {"linear_output_wait", "pickler_chain", "settings_defaults"}
    for name, fingerprint in found.items():
        assert fingerprint in VERIFIED_SDK_FINGERPRINTS[name] | FIXED_SDK_FINGERPRINTS[name], (name, fingerprint)


def test_the_pickler_chain_is_the_sdks_defect_and_undone_on_a_verified_sdk():
    """On a verified SDK, serialize_provider grows the chain (RecursionError after about 985 dynamic
    resources) and the undo keeps it one wrapper deep; on an SDK that fixed it, there is no chain."""
    import pickle

    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_fc_invocation.provider import StatefulAsyncInvocationProvider
    from pulumi_fc_invocation.sdk_workarounds import PICKLER_CHAIN, sdk_verified, undo_sdk_pickler_chain

    provider = StatefulAsyncInvocationProvider()
    verified = sdk_verified(PICKLER_CHAIN)
    try:
        blobs = set()
        for _ in range(1500):
            blobs.add(serialize_provider(provider))
            undo_sdk_pickler_chain()
        assert len(blobs) == 1  # deterministic, and no RecursionError
        if verified:
            with pytest.raises(RecursionError):  # the defect is real on this SDK: without the undo it fails
                for _ in range(1500):
                    serialize_provider(provider)
        else:
            for _ in range(1500):
                serialize_provider(provider)
    finally:
        undo_sdk_pickler_chain()
    assert pickle._Pickler._batch_setitems.__qualname__ == "_Pickler._batch_setitems"


# A program of three gates through the harness, in a fresh interpreter; it reports what happened to
# the SDK's functions and what the program's log said.
PROGRAM = """
import json, pickle, sys
import pulumi
import pulumi.runtime.stack as stack
from pulumi_fc_invocation import StatefulAsyncInvocation
from pulumi_fc_invocation import sdk_workarounds as program_module
from pulumi_fc_invocation.testing.harness import run_program
from pulumi_fc_invocation.testing.server import FcEmulator
from pulumi_fc_invocation.testing.virtual_time import AutoAdvanceClock
from pulumi_fc_invocation.waiter import use_clock

if sys.argv[1] == "fixed":  # read the changed serialize_provider as code that fixed the defect itself
    fixed = program_module.FIXED_SDK_FINGERPRINTS
    fixed[program_module.PICKLER_CHAIN] |= {program_module.sdk_fingerprint(program_module.PICKLER_CHAIN)}

def depth():
    fn, n = pickle._Pickler.__dict__["_batch_setitems"], 0
    while fn.__qualname__ != "_Pickler._batch_setitems":
        fn, n = [c.cell_contents for c in fn.__closure__ if callable(c.cell_contents)][0], n + 1
    return n

def body():
    for i in range(3):
        gate = StatefulAsyncInvocation(f"g{i}", service_name="svc", function_name="job", invocation_id=f"ok-{i}",
                                       wait_for_completion=True, timeout_seconds=600)
        pulumi.export(f"g{i}", gate.status)

logs = []
with FcEmulator(clock="virtual") as fc:
    for i in range(3):
        fc.add_invocation("svc", "job", f"ok-{i}", timeline=[("Running", 0), ("Succeeded", 20 + i)])
    for run in range(2):  # two programs in one process: the log says it once
        with use_clock(AutoAdvanceClock(fc.clock)):
            result = run_program(body, config=fc.stack_config(), secret_keys=("alicloud:secretKey",))
        logs += [(log.severity, log.message) for log in result.logs if "pulumi-fc-invocation:" in log.message]
print(json.dumps({
    "sdk": pulumi.__file__, "outputs": [result.outputs[f"g{i}"] for i in range(3)],
    "wait_for_rpcs": f"{stack.wait_for_rpcs.__module__}.{stack.wait_for_rpcs.__qualname__}",
    "pickler_depth": depth(), "logs": logs,
}))
"""


# A line after which one more harmless line goes, per file of the SDK.
CHANGED_WAIT_AND_PICKLER = {
    "runtime/stack.py": ('    log.debug("Waiting for outstanding RPCs to complete")\n', '    log.debug("changed")\n'),
    "dynamic/dynamic.py": ("def serialize_provider(provider: ResourceProvider) -> str:\n", "    provider = provider\n"),
}
# ContextProperty.__init__ with one harmless line more (a rename of __default would change it too).
CHANGED_SETTINGS = {"_utils.py": ("        self.__default = default\n", "        self.__fallback = default\n")}


def changed_sdk(tmp_path: Path, edits: dict = CHANGED_WAIT_AND_PICKLER) -> Path:
    """A copy of the installed SDK whose functions named in ``edits`` (by default wait_for_rpcs and
    serialize_provider) are the SDK's code with one harmless line more each: an SDK whose code the
    workarounds were not verified against."""
    import pulumi

    root = tmp_path / "sdk"
    shutil.copytree(Path(pulumi.__file__).parent, root / "pulumi", ignore=shutil.ignore_patterns("__pycache__"))
    for path, (anchor, added) in edits.items():
        file = root / "pulumi" / path
        text = file.read_text()
        assert text.count(anchor) == 1, f"{path}: the line to change is not in this SDK: {anchor!r}"
        file.write_text(text.replace(anchor, anchor + added))
    return root


def test_on_the_sdk_verified_both_workarounds_apply_and_nothing_is_said():
    seen = json.loads(run_python(PROGRAM, "verified"))
    assert seen["outputs"] == ["Succeeded"] * 3
    assert seen["wait_for_rpcs"] == "pulumi_fc_invocation.sdk_workarounds.linear_wait_for_rpcs"
    assert seen["pickler_depth"] <= 1  # undone after each registration (the SDK wraps it once again)
    assert seen["logs"] == []


def test_an_sdk_whose_code_differs_is_left_alone_and_the_log_says_so_once(tmp_path):
    sdk = changed_sdk(tmp_path)
    seen = json.loads(run_python(PROGRAM, "unknown", pythonpath=(sdk,)))
    assert seen["sdk"].startswith(str(sdk))
    assert seen["outputs"] == ["Succeeded"] * 3  # the gates work on the SDK's own code
    assert seen["wait_for_rpcs"] == "pulumi.runtime.stack.wait_for_rpcs"  # not replaced
    assert seen["pickler_depth"] >= 6  # not undone: one wrapper more per registration (2 programs x 3 gates)
    said = [message for _, message in seen["logs"]]
    assert len(said) == 2 and all(severity == "info" for severity, _ in seen["logs"]), said
    wait, chain = sorted(said, key=lambda m: "pickler" in m)
    assert f"pulumi {version('pulumi')} is not the code its linear output wait workaround was verified" in wait
    assert "wait_for_rpcs, run_pulumi_func" in wait and "leaving the SDK alone" in wait
    assert "pickler chain workaround" in chain and "serialize_provider: fingerprint" in chain


def test_an_sdk_that_fixed_a_defect_gets_no_workaround_and_no_info(tmp_path):
    seen = json.loads(run_python(PROGRAM, "fixed", pythonpath=(changed_sdk(tmp_path),)))
    assert seen["outputs"] == ["Succeeded"] * 3
    assert seen["pickler_depth"] >= 6  # left alone
    assert [message for _, message in seen["logs"] if "pickler" in message] == []  # at debug level: not shown
    assert len(seen["logs"]) == 1 and "linear output wait" in seen["logs"][0][1]


# Two runs inside the harness's guard, each setting the SDK's monitor in a copied context (as a program
# does); what a context that never set it reads after each, and what was said on stderr (no engine there).
SETTINGS_RUNS = """
import contextlib, contextvars, io, json
from pulumi.runtime.settings import SETTINGS
from pulumi_fc_invocation.sdk_workarounds import settings_defaults_restored

said, seen = io.StringIO(), []
with contextlib.redirect_stderr(said):
    for run in range(2):
        with settings_defaults_restored():
            contextvars.copy_context().run(setattr, SETTINGS, "monitor", f"monitor of run {run}")
        seen.append(contextvars.Context().run(lambda: SETTINGS.monitor))
print(json.dumps({"seen": seen, "said": said.getvalue().splitlines()}))
"""


def test_the_harness_puts_the_sdk_settings_defaults_back_on_the_sdk_verified():
    seen = json.loads(run_python(SETTINGS_RUNS))
    assert seen == {"seen": [None, None], "said": []}


def test_an_sdk_whose_settings_code_differs_is_left_alone_and_says_so_once(tmp_path):
    """Were ContextProperty's default renamed, the harness would not look for it by the old name and
    find nothing: the fingerprint differs, the SDK is left alone (its leak shows) and stderr says so once."""
    seen = json.loads(run_python(SETTINGS_RUNS, pythonpath=(changed_sdk(tmp_path, CHANGED_SETTINGS),)))
    assert seen["seen"] == ["monitor of run 0", "monitor of run 1"]  # the SDK's leak, not undone
    assert len(seen["said"]) == 1, seen["said"]
    assert seen["said"][0].startswith(f"info: pulumi-fc-invocation: pulumi {version('pulumi')} is not the code "
                                      "its settings defaults workaround was verified against "
                                      "(ContextProperty.__init__, ContextProperty.fget, ContextProperty.fset")


MANGLED = re.compile(r"_[A-Za-z][A-Za-z0-9]*?[A-Za-z0-9]__[A-Za-z0-9]\w*")


def test_only_the_workarounds_module_names_another_class_private_attribute():
    """A name-mangled attribute (``_Class__name``, or that text given to getattr/hasattr) written out
    reaches into a class's private state from outside it: only sdk_workarounds may, each with a
    fingerprint. tests/test_import_direction.py sees private names taken from modules; this sees these."""
    package = ROOT / "pulumi_fc_invocation"
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            text = node.attr if isinstance(node, ast.Attribute) else node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and MANGLED.fullmatch(text):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
    assert found and all(line.startswith("pulumi_fc_invocation/sdk_workarounds.py:") for line in found), found
