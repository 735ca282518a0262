"""The same programs through the real CLI and through the harness give the same outcome, so the
harness (the fast path for unit tests) cannot drift from the engine unnoticed."""

from __future__ import annotations

import re

import pytest

from pulumi_fc_invocation.testing import FcEmulator, PulumiCli
from pulumi_fc_invocation.testing.harness import ProgramError, run_program_file

from _engine import PROGRAM

SECRET_KEYS = ("alicloud:secretKey",)
FAILING_J2 = '{"fcEmulator": {"status": "Failed", "after": 2.5, "error": "oops"}}'


def _invoke(fc, ids: str) -> None:
    for job in ids.split(","):
        fc.client().invoke_async("svc", "fn", FAILING_J2 if job == "j2" else "{}", invocation_id=job)
SCENARIOS = {
    # name: (script of function svc/fn, config, preview)
    "succeeds": (dict(outcome="Succeeded", queue_delay=0.2, duration=2.5, retries=1, retry_delay=0.2,
                      return_payload="done"), {"ids": "j1"}, False),
    "fails": (dict(outcome="Failed", queue_delay=0, duration=2.5, error_message="UnhandledException: disk full"),
              {"ids": "j1"}, False),
    # j2 fails after 2.5 s while j1 and j3 run for 5 minutes: the first failure ends the run
    "one of three fails": (dict(outcome="Succeeded", queue_delay=0, duration=300),
                           {"ids": "j1,j2,j3"}, False),
    "times out": (dict(outcome="Succeeded", queue_delay=0, duration=120), {"ids": "j1", "timeout": "3"}, False),
    "preview of a long task": (dict(outcome="Succeeded", queue_delay=0, duration=120), {"ids": "j1"}, True),
}


def _first_error(text: str) -> str:
    """The gate's verdict in a run's text: the first 'invocation ...' / 'timed out ...' sentence."""
    match = re.search(r"((?:invocation|timed out waiting for invocation) svc/fn/j\d[^\n]*?)"
                      r"(?: \(request id [^)]*\)| \(timeout_seconds=[^)]*\)|$)", text, re.M)
    return match.group(1) if match else ""


def _through_engine(pulumi_bin, project, script, config, preview):
    with FcEmulator(clock="real") as fc, PulumiCli(project, pulumi=pulumi_bin) as cli:
        fc.add_function("svc", "fn", **script)
        cli.config(fc.stack_config(), secret_keys=SECRET_KEYS)
        cli.config({f"gates:{k}": v for k, v in config.items()})
        _invoke(fc, config["ids"])
        run = cli.preview() if preview else cli.up()
        names = {r["urn"].rsplit("::", 1)[-1] for r in cli.resources()}
        outputs = cli.outputs(show_secrets=True) if run.ok and not preview else {}
        return {"ok": run.ok, "error": "" if run.ok else _first_error(run.output), "dep": "dep" in names,
                "quick": run.seconds < 60,
                "outputs": {k: outputs.get(k) for k in ("status", "retries", "result")}}


def _through_harness(project, script, config, preview):
    import time

    started = time.monotonic()
    with FcEmulator(clock="real") as fc:
        fc.add_function("svc", "fn", **script)
        _invoke(fc, config["ids"])
        full = {**fc.stack_config(), **{f"gates:{k}": v for k, v in config.items()}}
        try:
            result = run_program_file(str(project / "__main__.py"), config=full, secret_keys=SECRET_KEYS,
                                      preview=preview, timeout=120)
        except ProgramError as exc:
            deployed = {r.name for r in exc.result.resources} if exc.result else set()
            return {"ok": False, "error": _first_error(exc.message), "dep": "dep" in deployed,
                    "quick": time.monotonic() - started < 60,
                    "outputs": {k: None for k in ("status", "retries", "result")}}
        outputs = result.outputs if not preview else {}
        return {"ok": True, "error": "", "dep": any(r.name == "dep" for r in result.resources) and not preview,
                "quick": time.monotonic() - started < 60,
                "outputs": {k: outputs.get(k) for k in ("status", "retries", "result")}}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_and_harness_agree(name, tmp_path, pulumi_bin):
    (tmp_path / "Pulumi.yaml").write_text("name: gates\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    script, config, preview = SCENARIOS[name]
    engine = _through_engine(pulumi_bin, tmp_path, script, config, preview)
    harness = _through_harness(tmp_path, script, config, preview)
    assert engine == harness
    assert engine["quick"], "no run waits for the 5-minute tasks"
    if not engine["ok"]:
        assert engine["error"], "the failure names the invocation"
        assert engine["dep"] is False
