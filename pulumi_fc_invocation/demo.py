"""``make demo``: gate a release on an FC async task, end to end, in a few seconds.

Starts the bundled emulator and, twice, an async task there through the real InvokeFunction API, each
followed by a deployment of a Pulumi program that gates a release on it: release 2.0.0 after a task that
succeeds (it goes out), then release 2.1.0 after a task that fails (it is held back). FC 3.0 by default
(``examples/gate-fc3-task``: ``AsyncTask``, a task id in ``x-fc-async-task-id``); ``--api fc2`` runs the
FC 2.0 program beside it (``examples/gate-deployment``: ``StatefulAsyncInvocation``).

Each deployment is ``pulumi up --yes`` on a local file backend when a Pulumi CLI is found (``make
engine``'s build, ``$FC_INVOCATION_PULUMI``, or ``pulumi`` on PATH), otherwise a run through the
package's testing harness (the program in this process, the provider in a real dynamic provider host).
Exits non-zero unless the first release went out and the second was held back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

SERVICE, FUNCTION = "video", "transcode"


@dataclasses.dataclass(frozen=True)
class Api:
    """One API's side of the demo: its example program, the config key of the task id, how a task starts."""

    name: str
    title: str
    example: str
    id_key: str
    service: Optional[str]  # None: an FC 3.0 function
    how: str  # how the task is started, as the demo says it

    def ref(self, task_id: str) -> str:
        return f"{FUNCTION}/{task_id}" if self.service is None else f"{self.service}/{FUNCTION}/{task_id}"

    def start(self, client: Any, task_id: str, payload: str) -> None:
        if self.service is None:
            client.invoke_async_task(FUNCTION, payload, task_id=task_id)
        else:
            client.invoke_async(self.service, FUNCTION, payload, invocation_id=task_id)


APIS = {
    "fc3": Api("fc3", "Function Compute 3.0 async task (AsyncTask, API 2023-03-30)", "gate-fc3-task", "taskId",
               None, "InvokeFunction (x-fc-invocation-type: Async, x-fc-async-task-id)"),
    "fc2": Api("fc2", "Function Compute 2.0 stateful async invocation (StatefulAsyncInvocation)", "gate-deployment",
               "invocationId", SERVICE, "InvokeFunction (X-Fc-Invocation-Type: Async, "
               "X-Fc-Stateful-Async-Invocation-Id)"),
}


@dataclasses.dataclass(frozen=True)
class Stage:
    """One deployment: the release it gates, the task's script on the emulator, and what should happen."""

    version: str
    script: dict[str, Any]
    story: str  # the task's timeline, announced before the deployment
    released: bool  # whether the release should go out

    @property
    def outcome(self) -> str:
        return "goes out" if self.released else "is held back"


STAGES = (
    Stage("2.0.0", dict(outcome="Succeeded", queue_delay=0.5, duration=3.5, retries=1, retry_delay=0.5,
                        error_message="UnhandledException: worker restarted",
                        return_payload='{"hls": "oss://video/2026/11/demo/index.m3u8"}'),
          # Long enough that the retried attempt is still running when the program's wait starts, even on
          # a loaded machine: the progress line shows the retry.
          "queued 0.5 s, its first 3.5 s attempt fails and is retried 0.5 s later, the second succeeds: "
          "about 8 s in all", released=True),
    Stage("2.1.0", dict(outcome="Failed", queue_delay=0.2, duration=1.0,
                        error_message="UnhandledException: corrupt frame at 00:41 in demo-2.mp4"),
          "queued 0.2 s, it fails after 1 s: the release must not go out", released=False),
)


def _example_dir(name: str) -> Path:
    candidates = [Path(__file__).resolve().parents[1] / "examples" / name, Path.cwd() / "examples" / name]
    for candidate in candidates:
        if (candidate / "__main__.py").is_file():
            return candidate
    raise SystemExit(f"demo: examples/{name} not found; run `make demo` from a clone of the repository")


def _say(text: str) -> None:
    print(text, flush=True)


def _show_outputs(outputs: dict[str, Any], secret: set[str]) -> None:
    _say("\nStack outputs:")
    width = max((len(k) for k in outputs), default=0)
    for key in sorted(outputs):
        value = "[secret]" if key in secret else json.dumps(outputs[key])
        _say(f"    {key.ljust(width)}  {value}")


# A deployment: (config with the stage's task id and version, the stage, a call that starts its task)
# -> whether the release went out.
Deploy = Callable[[dict[str, str], Stage, Callable[[], None]], bool]


def _cli_deploy(cli: Any, pulumi: str) -> Deploy:
    def deploy(config: dict[str, str], stage: Stage, start_task: Callable[[], None]) -> bool:
        cli.config(config)
        start_task()  # right before the deployment, so that it waits on a running task
        _say(f"$ {pulumi} up --yes   (local file backend in {cli.backend})")
        up = cli.up(echo=True)
        outputs = cli.outputs()  # secrets come back as the string "[secret]"
        if up.ok:
            _show_outputs(outputs, {key for key, value in outputs.items() if value == "[secret]"})
            return outputs.get("releaseId") == f"release-{stage.version}"
        _say(f"\n`pulumi up` failed: player-release {stage.version} was not deployed; the stack's releaseId is "
             f"still {json.dumps(outputs.get('releaseId'))} (`pulumi stack output`).")
        return False
    return deploy


def _harness_deploy(example: Path, secret_keys: set[str]) -> Deploy:
    from .testing.harness import ProgramError, run_program_file

    errors_shown: list[str] = []

    def on_log(record: Any) -> None:
        who = record.urn.rsplit("::", 1)[-1] if record.urn else "stack"
        _say(f"  {record.severity:7} {who}: {record.message}")
        if record.severity == "error":
            errors_shown.append(record.message)

    def deploy(config: dict[str, str], stage: Stage, start_task: Callable[[], None]) -> bool:
        start_task()
        started = time.monotonic()
        errors_shown.clear()
        try:
            result = run_program_file(str(example / "__main__.py"), config=config, secret_keys=secret_keys,
                                      on_log=on_log, timeout=120)
        except ProgramError as exc:
            created = {r.name for r in exc.result.resources} if exc.result else set()
            why = "the error above" if errors_shown else exc.message.strip().splitlines()[-1]
            _say(f"\nThe program failed ({why}); player-release {stage.version} "
                 f"{'WAS' if 'player-release' in created else 'was not'} created.")
            return "player-release" in created
        _say(f"\nResources ({time.monotonic() - started:.1f} s):")
        for rec in result.resources:
            _say(f"    {rec.op:6} {rec.type}  {rec.name}  id={rec.id}")
        _show_outputs(result.outputs, result.secret_outputs)
        return result.outputs.get("releaseId") == f"release-{stage.version}"
    return deploy


def main(argv: Optional[list[str]] = None) -> int:
    from .client import FcClient  # noqa: F401  (fail early if the install is broken)
    from .testing.pulumi_cli import PulumiCli, find_pulumi
    from .testing.server import FcEmulator

    import argparse

    parser = argparse.ArgumentParser(prog="python -m pulumi_fc_invocation.demo",
                                     description="Gate a release on an FC async task against the bundled emulator.")
    parser.add_argument("--api", choices=sorted(APIS), default="fc3",
                        help="fc3 (the default): FC 3.0's AsyncTask; fc2: FC 2.0's StatefulAsyncInvocation")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cli", action="store_true", help="require a Pulumi CLI (fail without one)")
    mode.add_argument("--harness", action="store_true", help="use the testing harness even if a CLI exists")
    args = parser.parse_args(argv)
    api = APIS[args.api]
    pulumi = None if args.harness else find_pulumi()
    if args.cli and not pulumi:
        raise SystemExit("demo: --cli needs a Pulumi CLI: `make engine`, FC_INVOCATION_PULUMI, or `pulumi` on PATH")
    example = _example_dir(api.example)
    _say(f"pulumi-fc-invocation demo: gate a release on a {api.title}\n"
         f"with examples/{api.example} (--api {'fc2' if api.name == 'fc3' else 'fc3'} for the other API)\n")
    env = {"FC_INVOCATION_PROGRESS_SECONDS": "1"}
    if not pulumi:
        why = ("--harness" if args.harness
               else "No Pulumi CLI (`make engine`, FC_INVOCATION_PULUMI or `pulumi` on PATH)")
        _say(f"{why}: running the program through this package's testing harness\n"
             "(the program in this process under pulumi.runtime mocks, the provider in a real dynamic\n"
             "provider host over gRPC: what `pulumi up` would do, without the engine).\n")
        os.environ.update(env)
    stamp = time.strftime("video-%Y%m%d-%H%M%S")
    task_ids = [f"{stamp}-{number}" for number in range(1, len(STAGES) + 1)]
    started: list[tuple[str, Stage]] = []
    code = 0
    with FcEmulator(clock="real") as fc, contextlib.ExitStack() as stack:
        client = fc.client()
        secret_keys = {"alicloud:secretKey"}
        base = {**fc.stack_config(), f"{api.example}:timeoutSeconds": "120"}
        if pulumi:
            cli = stack.enter_context(PulumiCli(example, pulumi=pulumi, env=env))
            cli.config(base, secret_keys=secret_keys)  # once; each deployment sets its task id and version
            deploy, base = _cli_deploy(cli, pulumi), {}
        else:
            deploy = _harness_deploy(example, secret_keys)
        for number, (stage, task_id) in enumerate(zip(STAGES, task_ids), 1):
            ended = "succeeds" if stage.released else "fails"
            _say(f"=== {number}/{len(STAGES)}: release {stage.version} after a task that {ended}\n")

            def start_task(stage: Stage = stage, task_id: str = task_id, number: int = number) -> None:
                fc.add_function(api.service, FUNCTION, **stage.script)  # the task's script, on the emulator
                api.start(client, task_id, f'{{"source": "oss://raw/2026/11/demo-{number}.mp4"}}')
                started.append((task_id, stage))
                _say(f"Emulator at {fc.endpoint}: started async task {api.ref(task_id)} with {api.how}\n"
                     f"({stage.story}).\n")

            config = {**base, f"{api.example}:{api.id_key}": task_id, f"{api.example}:version": stage.version}
            if deploy(config, stage, start_task) != stage.released:
                _say(f"\ndemo: release {stage.version} should have "
                     f"{'gone out' if stage.released else 'been held back'}")
                code = 1
                break
            _say(f"\nRelease {stage.version} {stage.outcome}.\n")
        _say("Tasks:")
        for task_id, stage in started:
            final = client.get(api.ref(task_id))
            retries = final.already_retried_times
            why = f": {final.invocation_error_message}" if final.status.value != "Succeeded" else ""
            _say(f"    {api.ref(task_id)}  {final.status.value} after {retries} retr{'y' if retries == 1 else 'ies'}"
                 f"{why} (release {stage.version})")
        _say(f"{fc.request_count()} API calls reached the emulator.")
    return code


if __name__ == "__main__":
    sys.exit(main())
