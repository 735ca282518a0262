"""Run a Pulumi project through the real ``pulumi`` CLI, on a throwaway local file backend.

The third way to test a program, after Pulumi's mocks and this package's harness: the real engine
decides what runs (reads, targets, refresh, destroy, cancellation after a failure, the display), so
what passes here passes in ``pulumi up``. Each :class:`PulumiCli` has its own ``PULUMI_HOME``, file
backend and passphrase in a temporary directory; nothing touches the user's Pulumi login::

    with FcEmulator(clock="real") as fc, PulumiCli("examples/gate-deployment") as cli:
        cli.config(fc.stack_config(), secret_keys={"alicloud:secretKey"})
        cli.config({"gate-deployment:invocationId": "job-1"})
        result = cli.up()
        assert result.returncode == 0, result.output
        assert cli.outputs()["taskStatus"] == "Succeeded"

The CLI is found by :func:`find_pulumi`: ``$FC_INVOCATION_PULUMI``, then the build of ``make engine``
(``.pulumi/bin/pulumi`` in a clone of this repository), then ``pulumi`` on ``PATH``.

Runs are set up as a user's are: plugin acquisition stays on, the language host picks the program's
interpreter by the official rules (the project's ``virtualenv`` option, else ``python3`` from ``PATH``,
where the directories of the CLI and of this interpreter come first, as in an activated venv) and
output is buffered as usual. The switches that change this (:data:`SWITCHES`) are taken out of the
environment the tests run in (a shell or CI that exports ``PYTHONUNBUFFERED=1`` would otherwise change
every run); a test that needs one passes it in ``env`` and says why.
Like a user's ambient Python, the test interpreter is what ``pulumi install`` (and ``pulumi package
add``) pip-installs into for a project without a ``virtualenv`` option: give such a project one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional, Union

__all__ = ["PulumiCli", "CliResult", "SWITCHES", "find_pulumi"]

_REPO_BUILD = Path(__file__).resolve().parents[2] / ".pulumi" / "bin" / "pulumi"
PASSPHRASE = "fc-invocation-tests"
# Test-only switches a user's setup does not have: dropped from the inherited environment, so that
# whatever the developer's shell or the CI exports, runs are set up as a user's (issue 23).
SWITCHES = ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_IGNORE_AMBIENT_PLUGINS", "PULUMI_PYTHON_CMD",
            "PULUMI_RUNTIME_VIRTUALENV", "PYTHONUNBUFFERED")


def find_pulumi() -> Optional[str]:
    """The ``pulumi`` executable to use, or None: ``$FC_INVOCATION_PULUMI`` > ``make engine`` > PATH."""
    named = os.environ.get("FC_INVOCATION_PULUMI")
    if named:
        return named
    if _REPO_BUILD.is_file() and os.access(_REPO_BUILD, os.X_OK):
        return str(_REPO_BUILD)
    return shutil.which("pulumi")


@dataclasses.dataclass
class CliResult:
    """One CLI run: its exit code and what it printed (stdout and stderr, interleaved)."""

    args: list[str]
    returncode: int
    output: str
    seconds: float
    stdout: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class PulumiCli:
    """A copy of a Pulumi project with its own stack on a local file backend, driven by the real CLI."""

    def __init__(self, project: Union[str, Path], *, stack: str = "dev", pulumi: Optional[str] = None,
                 env: Optional[Mapping[str, str]] = None, program: Optional[str] = None,
                 requirements: bool = True) -> None:
        """``project``: a directory with a ``Pulumi.yaml`` (copied without its venvs, so runs never
        write into it). ``program``: the text of a ``__main__.py`` to write into the copy instead.
        ``env``: extra environment for every run (the only way a run gets one of :data:`SWITCHES`).
        ``requirements``: keep the project's ``requirements.txt`` (the default, as a user has it; only
        ``pulumi install`` reads it)."""
        found = pulumi or find_pulumi()
        if not found:
            raise FileNotFoundError(
                "no Pulumi CLI: run `make engine` (needs Go), put `pulumi` on PATH, or name one with "
                "FC_INVOCATION_PULUMI=/path/to/pulumi")
        self.pulumi = found
        self._tmp = tempfile.TemporaryDirectory(prefix="fc-invocation-cli-")
        root = Path(self._tmp.name)
        self.dir = root / "project"
        shutil.copytree(project, self.dir, ignore=shutil.ignore_patterns("__pycache__", "venv", ".venv"))
        if program is not None:
            (self.dir / "__main__.py").write_text(program)
        if not requirements:
            (self.dir / "requirements.txt").unlink(missing_ok=True)
        self.backend = root / "state"
        self.backend.mkdir()
        self.home = root / "home"
        self.home.mkdir()
        self.stack = stack
        bin_dirs = [str(Path(self.pulumi).resolve().parent), str(Path(sys.executable).parent)]
        inherited = {name: value for name, value in os.environ.items() if name not in SWITCHES}
        self.env = {
            **inherited,
            "PATH": os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.backend}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            **(env or {}),
        }
        self.env.pop("PULUMI_ACCESS_TOKEN", None)
        self.run("stack", "init", stack, check=True)

    # -- running --------------------------------------------------------------------------------
    def run(self, *args: str, check: bool = False, timeout: float = 600,
            env: Optional[Mapping[str, str]] = None, split: bool = False, echo: bool = False) -> CliResult:
        """``pulumi <args> --non-interactive`` in the project; never raises for a non-zero exit
        unless ``check``. Output is captured with colour off; ``split`` keeps stdout apart (for JSON);
        ``echo`` also prints each line as it comes (a live run, for demos)."""
        import time

        argv = [self.pulumi, "--non-interactive", "--color=never", *args]
        started = time.monotonic()
        run_env = {**self.env, **(env or {})}
        if echo:
            lines = []
            with subprocess.Popen(argv, cwd=self.dir, env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) as proc:
                assert proc.stdout is not None
                for line in proc.stdout:
                    lines.append(line)
                    print(line, end="", flush=True)
            stdout, stderr, code = "".join(lines), "", proc.returncode
        else:
            done = subprocess.run(argv, cwd=self.dir, env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE if split else subprocess.STDOUT, text=True, timeout=timeout)
            stdout, stderr, code = done.stdout, done.stderr or "", done.returncode
        output = stdout + stderr
        result = CliResult(argv, code, output, time.monotonic() - started, stdout)
        if check and not result.ok:
            raise RuntimeError(f"`pulumi {' '.join(args)}` exited {code}:\n{output}")
        return result

    def config(self, values: Mapping[str, Any], *, secret_keys: Iterable[str] = ()) -> None:
        """``pulumi config set`` for each value (``--secret`` for ``secret_keys``)."""
        secret = set(secret_keys)
        for key, value in values.items():
            flag = ["--secret"] if key in secret else []
            self.run("config", "set", *flag, key, "--", str(value), check=True)

    def up(self, *args: str, **kwargs: Any) -> CliResult:
        return self.run("up", "--yes", "--skip-preview", *args, **kwargs)

    def preview(self, *args: str, **kwargs: Any) -> CliResult:
        return self.run("preview", *args, **kwargs)

    def refresh(self, *args: str, **kwargs: Any) -> CliResult:
        return self.run("refresh", "--yes", *args, **kwargs)

    def destroy(self, *args: str, **kwargs: Any) -> CliResult:
        return self.run("destroy", "--yes", *args, **kwargs)

    # -- reading the stack ----------------------------------------------------------------------
    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json"] + (["--show-secrets"] if show_secrets else [])
        return json.loads(self.run(*args, check=True, split=True).stdout)

    def export(self) -> dict[str, Any]:
        """``pulumi stack export``: the state, secrets as ciphertext."""
        return json.loads(self.run("stack", "export", check=True, split=True).stdout)

    def resources(self) -> list[dict[str, Any]]:
        return self.export().get("deployment", {}).get("resources", []) or []

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> "PulumiCli":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
