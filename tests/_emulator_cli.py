"""`fc-invocation emulator` as a process, for the emulator's tests: started with the given arguments, read up
to its "Press Ctrl+C" line, stopped with SIGTERM (which must exit 0) when the block ends."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alibabacloud_tea_openapi.models import Config


@dataclass
class Served:
    lines: list[str]  # what it printed up to "Press Ctrl+C"
    env: dict[str, str]  # its `export NAME=value` lines, the shell quotes left on
    proc: subprocess.Popen

    @property
    def port(self) -> int:
        return int(self.env["FC_INVOCATION_ENDPOINT"].rsplit(":", 1)[1])

    def sdk_config(self) -> Config:
        """The official SDKs' config for it (its printed key and secret)."""
        return Config(access_key_id=self.env["ALIBABA_CLOUD_ACCESS_KEY_ID"].strip("'"),
                      access_key_secret=self.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"].strip("'"),
                      endpoint=f"127.0.0.1:{self.port}", protocol="http")


@contextmanager
def serving(*args: str, via_cli: bool = False) -> Iterator[Served]:
    """``via_cli``: through ``fc-invocation emulator`` (the package's CLI); else the emulator's own ``main``."""
    code = "import sys; from pulumi_fc_invocation.testing.emulator_cli import main; sys.exit(main(sys.argv[1:]))"
    head = [sys.executable, "-m", "pulumi_fc_invocation.cli", "emulator"] if via_cli else [sys.executable, "-c", code]
    proc = subprocess.Popen([*head, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        while not (lines and lines[-1].startswith("Press Ctrl+C")):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        env = dict(l[len("export "):].strip().split("=", 1) for l in lines if l.startswith("export "))
        yield Served(lines, env, proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
