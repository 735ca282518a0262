"""The README and docs/ as a reader uses them, beyond their Python blocks (tests/test_readme.py): the README
stays a landing page, its links lead somewhere, every shell block is valid bash, every `fc-invocation`
command shown is one the CLI accepts, the shell session of the CLI page runs as written, and every JSON
and YAML block parses."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md"] + sorted(DOCS.rglob("*.md"))
TEXTS = {page.relative_to(ROOT).as_posix(): page.read_text(encoding="utf-8") for page in PAGES}
FENCE = re.compile(r"(?:<!-- ([^>]*) -->\n)?```(\w*)\n(.*?)```", re.S)


def fenced(lang: str) -> list:
    return [pytest.param(code, tag, id=f"{name}:{n}") for name, text in TEXTS.items()
            for n, (tag, kind, code) in enumerate(FENCE.findall(text)) if kind == lang]


def test_the_readme_is_a_landing_page():
    lines = TEXTS["README.md"].count("\n")
    assert lines <= 300, f"README.md has {lines} lines: move reference material into docs/"
    assert "## Contents" in TEXTS["README.md"]


def test_the_readme_links_lead_somewhere():
    """GitHub renders the README from the repository: each relative link names a file or folder there,
    and each #anchor one of its headings."""
    text = TEXTS["README.md"]
    titles = re.findall(r"^#+ (.+)$", text, re.M)
    anchors = {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        if link.startswith("#"):
            assert link[1:] in anchors, link
        else:
            assert (ROOT / link.split("#", 1)[0]).exists(), link


@pytest.mark.parametrize("code, tag", fenced("bash"))
def test_shell_blocks_are_valid_bash(code, tag):
    done = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _commands() -> list:
    """Each `fc-invocation ...` command of a bash block, as argv: the line split as the shell splits it, at
    its operators (`&&`, `|`, `;`, `&`, `$(`...`)`), less `VAR=value` prefixes and the comment."""
    found = []
    for param in fenced("bash"):
        for line in param.values[0].replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            command: list[str] = []
            for word in [*lexer, ";"]:
                if word and set(word) <= set("();<>|&"):
                    while command and "=" in command[0] and not command[0].startswith("-"):
                        command.pop(0)
                    if command[:1] == ["fc-invocation"]:
                        found.append(pytest.param(command[1:], id=" ".join(command[:3])))
                    command = []
                else:
                    command.append(word)
    return found


@pytest.mark.parametrize("argv", _commands())
def test_every_cli_command_shown_is_accepted(argv, capsys):
    """Its subcommand and option names exist (the values are the reader's: not checked here)."""
    if argv[0] == "emulator":
        from pulumi_fc_invocation.testing.emulator_cli import build_parser

        build_parser().parse_args(argv[1:])   # argparse exits 2 on an unknown option
        return
    from pulumi_fc_invocation.cli import main

    code = main([*argv, "--help"])   # click refuses an unknown option before it shows the help
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "Usage:" in out.out


def test_there_are_cli_commands_to_check():
    subcommands = {param.values[0][0] for param in _commands()}
    assert {"get", "wait", "wait-batch", "list", "invoke", "emulator"} <= subcommands


def test_the_cli_pages_shell_session_runs_as_written(tmp_path):
    """docs/cli.md's emulator session: a free port in place of 9000 (the only change), the venv's bin on
    PATH for `fc-invocation`."""
    ((code, _),) = [(param.values[0], param.values[1]) for param in fenced("bash") if param.values[1] == "shell"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = code.replace("9000", str(port))
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]), "HOME": str(tmp_path)}
    proc = subprocess.Popen(["bash", "-c", code], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    assert proc.returncode == 0, output
    assert "exit 1" in output, output                   # the failed FC 3.0 task's exit code
    assert "render/doomed" in output and "Failed" in output, output
    assert output.count("Succeeded") >= 2, output      # one task per API


@pytest.mark.parametrize("code, tag", fenced("json"))
def test_json_blocks_parse(code, tag):
    json.loads(code)


@pytest.mark.parametrize("code, tag", fenced("yaml"))
def test_yaml_blocks_parse(code, tag):
    assert isinstance(yaml.safe_load(code), dict)


def test_the_changelog_promises_what_test_layout_keeps():
    """CHANGELOG.md's state promise names the module paths that 0.1 pickled into state, which
    tests/test_layout.py keeps as blobs and unpickles."""
    promise = TEXTS["CHANGELOG.md"].split("## State compatibility", 1)[1].split("\n## ", 1)[0]
    kept = (ROOT / "tests" / "test_layout.py").read_text(encoding="utf-8")
    assert "tests/test_layout.py" in promise
    for module in ("pulumi_fc_invocation.provider", "pulumi_fc_invocation.batch_provider"):
        assert module in promise and module in kept, module
    for token in ("AsyncTask", "AsyncTasks", "StatefulAsyncInvocation", "StatefulAsyncInvocations"):
        assert f"dynamic/fc:{token}`" in promise or f"...:{token}`" in promise, token
