"""docs/getting-started.md runs as written, with the real Pulumi CLI: the newcomer's one recipe.

Its bash blocks run in order in one "terminal" (each block with `bash -e`; the directory and the
exported variables carry over to the next block, as in a shell), the block marked `terminal 2` runs
in the background from the home directory (the emulator, until the end), and the files it shows are
written where the recipe says. What the test sets instead of the reader: the clone (a copy of this
work tree's files as git sees them, named by FC_INVOCATION_SRC, in place of the block that says
where yours is), a home directory and a PULUMI_HOME of its own (the CLI finds `~` from the user
database, not from HOME), a free port in place of 9000, and PATH (the CLI of `make engine`, a
python3). `pip install` fetches the dependencies from the package index, as it does for a reader:
slow (about a minute with pip's cache warm).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "getting-started.md"
TEXT = PAGE.read_text(encoding="utf-8")
BLOCK = re.compile(r"<!-- (recipe(?:-file)?)(?:: ([^>]*?))? -->\n```(\w+)\n(.*?)```", re.S)

def recipe() -> list[tuple[str, str, str, str]]:
    return [(kind, label or "", lang, code) for kind, label, lang, code in BLOCK.findall(TEXT)]


def test_the_page_is_one_recipe_of_tagged_blocks():
    """Every code block of the page belongs to the recipe, so none escapes the run below."""
    steps = recipe()
    assert TEXT.count("```") == 2 * len(steps)
    labels = [label for kind, label, _, _ in steps if kind == "recipe"]
    assert labels[0] == "clone" and {"terminal 2", "succeeds", "fails", "held back"} <= set(labels)
    files = {label for kind, label, _, _ in steps if kind == "recipe-file"}
    assert files == {"Pulumi.yaml", "__main__.py"}
    clone = steps[0][3].strip().splitlines()
    assert len(clone) == 1 and clone[0].startswith("export FC_INVOCATION_SRC=")


def _clone(target: Path) -> Path:
    """The work tree as a fresh clone of it would be: the files git tracks and the new ones it does not
    ignore (uncommitted edits included; no venv, no build, no engine)."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    for name in names.decode().split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Terminal:
    """One shell session: each block runs under `bash -e`, and the next starts where it ended."""

    def __init__(self, home: Path, env: dict[str, str], state: Path) -> None:
        self.env, self.state = env, state
        state.mkdir()
        (state / "pwd").write_text(str(home))
        (state / "env").write_text("")

    def script(self, code: str) -> str:
        keep = f'trap \'pwd > "{self.state}/pwd"; export -p > "{self.state}/env"\' EXIT\n'
        return f'source "{self.state}/env"\ncd "$(cat "{self.state}/pwd")"\n{keep}{code}'

    def run(self, code: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-e", "-c", self.script(code)], env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_the_recipe_runs_as_written(tmp_path, pulumi_bin):
    home, port = tmp_path / "home", _free_port()
    home.mkdir()
    source = _clone(tmp_path / "pulumi-fc-invocation")
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(Path(pulumi_bin).resolve().parent), str(Path(sys.base_prefix) / "bin"),
                                 "/usr/local/bin", "/usr/bin", "/bin"]),
        "PULUMI_HOME": str(home / ".pulumi"),   # the reader's is their ~/.pulumi
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "FC_INVOCATION_SRC": str(source),
        "LANG": "C.UTF-8",
    }
    terminal = Terminal(home, env, tmp_path / "shell")
    emulator = None
    results: dict[str, subprocess.CompletedProcess] = {}
    try:
        for kind, label, _, code in recipe()[1:]:   # the first block names the reader's clone: env does
            code = code.replace("127.0.0.1:9000", f"127.0.0.1:{port}").replace("--port 9000", f"--port {port}")
            if kind == "recipe-file":
                project = Path((terminal.state / "pwd").read_text().strip())
                (project / label).write_text(code)
            elif label == "terminal 2":
                emulator = subprocess.Popen(["bash", "-e", "-c", code], cwd=home, env=env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                            start_new_session=True)
                assert emulator.stdout is not None
                lines = []
                for line in emulator.stdout:   # it prints its settings, then "Press Ctrl+C to stop."
                    lines.append(line)
                    if "Press Ctrl+C" in line:
                        break
                assert emulator.poll() is None, "".join(lines)
                assert f"listening on http://127.0.0.1:{port}" in "".join(lines)
            else:
                started = time.monotonic()
                result = results[label or f"block {len(results)}"] = terminal.run(code)
                result.seconds = time.monotonic() - started
                if label != "fails":
                    assert result.returncode == 0, (code, result.stdout, result.stderr)
    finally:
        if emulator is not None:
            os.killpg(emulator.pid, signal.SIGTERM)
            emulator.wait(timeout=30)

    succeeded = results["succeeds"].stdout
    assert re.search(r'taskStatus\s*:\s*"Succeeded"', succeeded), succeeded
    assert re.search(r'releasedVersion\s*:\s*"1\.0\.0"', succeeded), succeeded
    assert results["succeeds"].seconds >= 5   # the gate waited for the 10-second task
    failed = results["fails"]
    assert failed.returncode != 0
    verdict = "task transcode/video-2 ended Failed: disk full"
    assert verdict in failed.stdout + failed.stderr, failed.stdout + failed.stderr
    assert "fail_on_statuses: Failed, Stopped, Expired, Invalid" in failed.stdout + failed.stderr
    assert results["held back"].stdout.strip() == "1.0.0"
    assert (home / "release-gate" / ".pulumi" / "stacks" / "release-gate" / "dev.json").is_file()  # state kept there
    # what the page says the reader sees is what the run showed
    assert verdict in TEXT and 'releasedVersion: "1.0.0"' in TEXT and "prints `1.0.0`" in TEXT
