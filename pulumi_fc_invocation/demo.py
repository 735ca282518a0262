"""``make demo``: gate a Pulumi program on an FC async task, end to end, in a few seconds.

Starts the bundled emulator, starts an async task there through the real InvokeFunction API, then
runs ``examples/gate-deployment`` against it: with ``pulumi up --yes`` on a local file backend when
a Pulumi CLI is found (``make engine``'s build, ``$FC_INVOCATION_PULUMI``, or ``pulumi`` on PATH), otherwise through the package's testing harness (the program in this
process, the provider in a real dynamic provider host). Exits non-zero if the program fails.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional

SERVICE, FUNCTION = "video", "transcode"


def _example_dir() -> Path:
    candidates = [Path(__file__).resolve().parents[1] / "examples" / "gate-deployment",
                  Path.cwd() / "examples" / "gate-deployment"]
    for candidate in candidates:
        if (candidate / "__main__.py").is_file():
            return candidate
    raise SystemExit("demo: examples/gate-deployment not found; run `make demo` from a clone of the repository")


def _say(text: str) -> None:
    print(text, flush=True)


def _show_outputs(outputs: dict[str, Any], secret: set[str]) -> None:
    _say("\nStack outputs:")
    width = max((len(k) for k in outputs), default=0)
    for key in sorted(outputs):
        value = "[secret]" if key in secret else json.dumps(outputs[key])
        _say(f"    {key.ljust(width)}  {value}")


def _run_with_cli(pulumi: str, example: Path, config: dict[str, str], secret_keys: set[str], env: dict[str, str],
                  start_task: Any) -> int:
    from .testing.pulumi_cli import PulumiCli

    with PulumiCli(example, pulumi=pulumi, env=env) as cli:
        cli.config(config, secret_keys=secret_keys)
        start_task()
        _say(f"$ {pulumi} up --yes   (local file backend in {cli.backend})")
        up = cli.up(echo=True)
        if not up.ok:
            _say("\ndemo: `pulumi up` failed")
            return up.returncode or 1
        outputs = cli.outputs()  # secrets come back as the string "[secret]"
        _show_outputs(outputs, {key for key, value in outputs.items() if value == "[secret]"})
        return 0


def _run_with_harness(example: Path, config: dict[str, str], secret_keys: set[str], env: dict[str, str]) -> int:
    from .testing.harness import ProgramError, run_program_file

    _say("No Pulumi CLI (`make engine`, FC_INVOCATION_PULUMI or `pulumi` on PATH): running the program\n"
         "through this package's testing harness\n"
         "(the program in this process under pulumi.runtime mocks, the provider in a real dynamic\n"
         "provider host over gRPC: what `pulumi up` would do, without the engine).\n")
    started = time.monotonic()

    def on_log(record: Any) -> None:
        who = record.urn.rsplit("::", 1)[-1] if record.urn else "stack"
        _say(f"  {record.severity:7} {who}: {record.message}")

    os.environ.update(env)
    try:
        result = run_program_file(str(example / "__main__.py"), config=config, secret_keys=secret_keys,
                                  on_log=on_log, timeout=120)
    except ProgramError as exc:
        _say("\ndemo: the program failed:\n" + exc.message.strip().splitlines()[-1])
        return 1
    _say(f"\nResources ({time.monotonic() - started:.1f} s):")
    for rec in result.resources:
        _say(f"    {rec.op:6} {rec.type}  {rec.name}  id={rec.id}")
    _show_outputs(result.outputs, result.secret_outputs)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    from .client import FcClient  # noqa: F401  (fail early if the install is broken)
    from .testing.pulumi_cli import find_pulumi
    from .testing.server import FcEmulator

    import argparse

    parser = argparse.ArgumentParser(prog="python -m pulumi_fc_invocation.demo")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cli", action="store_true", help="require a Pulumi CLI (fail without one)")
    mode.add_argument("--harness", action="store_true", help="use the testing harness even if a CLI exists")
    args = parser.parse_args(argv)
    pulumi = None if args.harness else find_pulumi()
    if args.cli and not pulumi:
        raise SystemExit("demo: --cli needs a Pulumi CLI: `make engine`, FC_INVOCATION_PULUMI, or `pulumi` on PATH")
    example = _example_dir()
    _say("pulumi-fc-invocation demo: gate a deployment on a Function Compute async task\n")
    with FcEmulator(clock="real") as fc:
        fc.add_function(SERVICE, FUNCTION, outcome="Succeeded", queue_delay=0.5, duration=1.5, retries=1,
                        retry_delay=0.5, error_message="UnhandledException: worker restarted",
                        return_payload='{"hls": "oss://video/2026/11/demo/index.m3u8"}')
        invocation_id = time.strftime("video-%Y%m%d-%H%M%S")
        client = fc.client()

        def start_task() -> None:  # right before the deployment, so that it waits on a running task
            client.invoke_async(SERVICE, FUNCTION, '{"source": "oss://raw/2026/11/demo.mp4"}',
                                invocation_id=invocation_id)
            _say(f"Emulator at {fc.endpoint}: started async task {SERVICE}/{FUNCTION}/{invocation_id} with "
                 "InvokeFunction\n(queued 0.5 s, its first 1.5 s attempt fails and is retried 0.5 s later, the "
                 "second succeeds: about 4 s in all).\n")
        config = {
            "alicloud:accessKey": fc.credentials.access_key_id,
            "alicloud:secretKey": fc.credentials.access_key_secret,
            "alicloud:accountId": fc.account_id,
            "alicloud:region": fc.region,
            "fc-invocation:endpoint": fc.endpoint,
            "gate-deployment:invocationId": invocation_id,
            "gate-deployment:timeoutSeconds": "120",
        }
        secret_keys = {"alicloud:secretKey"}
        env = {"FC_INVOCATION_PROGRESS_SECONDS": "1"}
        if pulumi:
            code = _run_with_cli(pulumi, example, config, secret_keys, env, start_task)
        else:
            start_task()
            code = _run_with_harness(example, config, secret_keys, env)
        final = client.get(f"{SERVICE}/{FUNCTION}/{invocation_id}")
        _say(f"\nTask {final.status.value} after {final.already_retried_times} retry; "
             f"{fc.request_count()} API calls reached the emulator.")
    return code


if __name__ == "__main__":
    sys.exit(main())
