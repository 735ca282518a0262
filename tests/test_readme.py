"""Every code block of the README and of docs/ that is a program runs: Pulumi programs (<!-- program -->)
through the harness against the emulator, client snippets (<!-- snippet -->) against the emulator through
the environment chain, and test examples (<!-- test -->, <!-- unittest -->, <!-- pytest -->) as they are.
A block tagged <!-- file: PATH --> is that file of the repository, which its own tests run; the
getting-started recipe (<!-- recipe... -->) runs in tests/test_getting_started.py. docs/reference/ is
generated from the data sources' descriptions and tested with them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_fc_invocation.testing import AutoAdvanceClock, FcEmulator, run_program
from pulumi_fc_invocation.waiter import use_clock

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md"] + sorted(p for p in DOCS.rglob("*.md") if "reference" not in p.relative_to(DOCS).parts)
TEXTS = {page.relative_to(ROOT).as_posix(): page.read_text(encoding="utf-8") for page in PAGES}
README = TEXTS["README.md"]
KINDS = r"program|snippet|test|unittest|fragment|pytest|main|recipe-file: [^>]*|file: [^>]*"
TAGGED = re.compile(rf"<!-- ({KINDS}) -->\n```python\n(.*?)```", re.S)
BLOCKS = [(kind, code, name) for name, text in TEXTS.items() for kind, code in TAGGED.findall(text)]


def blocks(kind):
    return [pytest.param(code, id=f"{name}:{n}") for n, (k, code, name) in enumerate(BLOCKS) if k == kind]


def test_readme_has_runnable_blocks():
    assert len(blocks("program")) >= 1 and len(blocks("snippet")) >= 1 and len(blocks("test")) >= 1
    assert len(blocks("unittest")) >= 1 and len(blocks("pytest")) >= 2 and len(blocks("main")) == 1
    # every python block of every page is tagged, so none escapes these tests
    for name, text in TEXTS.items():
        assert text.count("```python") == len(TAGGED.findall(text)), name


@pytest.mark.parametrize("code", blocks("program"))
def test_program_blocks(code):
    with FcEmulator(clock="virtual") as fc, use_clock(AutoAdvanceClock(fc.clock)):
        fc.add_function("video", "transcode", qualifiers=["prod"], outcome="Succeeded", duration=300,
                        return_payload="oss://video/v2/index.m3u8")
        fc.client().invoke_async("video", "transcode", "{}", qualifier="prod", invocation_id="video-123")
        fc.add_function(None, "transcode", qualifiers=["prod"], outcome="Succeeded", duration=300,
                        return_payload="oss://video/v2/index.m3u8")                      # FC 3.0
        fc.client().invoke_async_task("transcode", "{}", qualifier="prod", task_id="video-123")
        result = run_program(lambda: exec(compile(code, "README.md", "exec"), {"__name__": "__main__"}),
                             config=fc.stack_config(), secret_keys=["alicloud:secretKey"])
    assert result.outputs["transcodeStatus"] == "Succeeded"
    assert result.outputs["transcodeFinished"].endswith("Z")
    assert "transcodeResult" in result.secret_outputs
    assert any(r.name == "player" for r in result.resources)


@pytest.mark.parametrize("code", blocks("snippet"))
def test_snippet_blocks(code, tmp_path):
    with FcEmulator(clock="virtual") as fc:
        fc.add_invocation("video", "transcode", "video-123", qualifier="prod", timeline=[("Succeeded", 0)])
        fc.add_function(None, "transcode", qualifiers=["prod"], duration=60)          # FC 3.0
        fc.add_invocation(None, "transcode", "job-123", qualifier="prod", timeline=[("Succeeded", 0)])
        proc = subprocess.run([sys.executable, "-c", code], env={**fc.env(), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Succeeded True True" in proc.stdout and "video-123 0" in proc.stdout and "video.prod" in proc.stdout
    if "get_async_task" in code:  # the FC 3.0 half: the task's ARN, and the id round-trips
        assert "acs:fc:" in proc.stdout and "transcode.prod/job-123 video.prod" in proc.stdout


@pytest.mark.parametrize("code", blocks("unittest"))
def test_unit_test_blocks_run_alone(code, tmp_path):
    """Unit tests under Pulumi's mocks set global SDK state: each runs in a process of its own."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("code", blocks("pytest"))
def test_pytest_files_pass_under_pytest(code, tmp_path):
    """A test file as a user keeps it (tests/ beside the project's __main__.py), run by pytest in a
    process of its own: the fc_emulator fixture comes from the installed plugin, as for a user."""
    (main,) = [param.values[0] for param in blocks("main")]
    (tmp_path / "Pulumi.yaml").write_text("name: my-project\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(main)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_from_readme.py").write_text(code)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    tests = len(re.findall(r"^def test_", code, re.M))
    assert proc.returncode == 0 and f"{tests} passed" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("code", blocks("test"))
def test_test_blocks(code):
    exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("code", blocks("fragment"))
def test_fragments_are_valid_python_using_public_names(code):
    import pulumi_fc_invocation

    compile(code, "README.md", "exec")
    names = re.findall(r"\b(StatefulAsyncInvocations?|get_stateful_async_invocations?(?:_output)?|AsyncTasks?|"
                       r"get_async_tasks?(?:_output)?|for_operation)\(", code)
    assert names
    for name in names:
        assert hasattr(pulumi_fc_invocation, name)


def test_file_blocks_are_the_files_their_tests_run():
    """A block that shows a file of the repository (an example program) is that file, byte for byte."""
    shown = [(name, path, code) for name, text in TEXTS.items()
             for path, code in re.findall(r"<!-- file: ([^>]*) -->\n```\w+\n(.*?)```", text, re.S)]
    assert len(shown) >= 2
    for name, path, code in shown:
        assert code == (ROOT / path).read_text(encoding="utf-8"), (name, path)


def test_the_scenario_example_loads_and_runs():
    """The documented scenario block is the format: it must load, and its tasks must end as it says."""
    scenario = re.compile(r"<!-- scenario -->\n```json\n(.*?)```", re.S)
    (text,) = [code for page in TEXTS.values() for code in scenario.findall(page)]
    with FcEmulator(clock="virtual", scenario=json.loads(text)) as fc:
        fc.advance(5)
        client = fc.client()
        assert client.get("video.prod/transcode/job-1").status.value == "Succeeded"
        assert client.get("video/transcode/job-2").status.value == "Failed"
        task = client.get("render.prod/frame-1")  # the FC 3.0 task
        assert task.status.value == "Failed" and task.task_error_message == "out of memory"


def test_every_example_directory_is_listed():
    listed = re.search(r"More in \[`examples/`\]\(examples\): (.*)\.", README).group(1)
    examples = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
    assert sorted(re.findall(r"`([^`]+)`", listed)) == examples
