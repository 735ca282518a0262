"""Figure 3: start-up. The package's own import time and ``fc-invocation --help``, each against
``python -c "import requests, pydantic"`` (the dependencies nobody can avoid)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any, Optional

from .common import ROOT, Section, Stat

BASELINE = "import requests, pydantic"
PACKAGE = "pulumi_fc_invocation"
# The package's exports are lazy, so `import pulumi_fc_invocation` alone loads almost nothing; what a
# user of the client pays is `from pulumi_fc_invocation import FcClient` (client, models, credentials,
# signing). Both are measured; the target is judged on the client layer.
IMPORTS = [("import", f"import {PACKAGE}"), ("client", f"from {PACKAGE} import FcClient")]
FORBIDDEN = ("pulumi", "grpc")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # measure imports from warm .pyc, never write during a run
    return env


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=_env(), cwd=ROOT)
    return (time.perf_counter() - started) * 1000


def _importtime(code: str) -> dict[str, tuple[int, int]]:
    """module -> (self µs, cumulative µs) from ``python -X importtime -c code``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          env=_env(), cwd=ROOT, check=True)
    out: dict[str, tuple[int, int]] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line[len("import time:"):].split("|"))
        out[name.strip()] = (int(self_us), int(cumulative_us))
    return out


_ON_TOP = r"""
import time
import requests, urllib3, pydantic
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from typing import Annotated, Optional
class _Warm(BaseModel):  # pydantic imports its schema machinery at the first model: a dependency cost
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    x: Annotated[Optional[int], BeforeValidator(lambda v: v)] = Field(default=None, alias="X", ge=0)
started = time.perf_counter()
from pulumi_fc_invocation import FcClient
print((time.perf_counter() - started) * 1000)
"""


def _on_top_ms() -> float:
    """In a fresh interpreter with the dependencies (and the pydantic names the package uses) already
    imported: the time of ``from pulumi_fc_invocation import FcClient``, i.e. the package's own cost."""
    proc = subprocess.run([sys.executable, "-c", _ON_TOP], capture_output=True, text=True, env=_env(), cwd=ROOT,
                          check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def _cli_command() -> tuple[Optional[list[str]], str]:
    script = os.path.join(os.path.dirname(sys.executable), "fc-invocation")
    if os.path.exists(script) or shutil.which("fc-invocation"):
        argv = [script if os.path.exists(script) else "fc-invocation", "--help"]
        if subprocess.run(argv, capture_output=True, env=_env(), cwd=ROOT).returncode == 0:
            return argv, "fc-invocation --help"
    argv = [sys.executable, "-m", f"{PACKAGE}.cli", "--help"]
    if subprocess.run(argv, capture_output=True, env=_env(), cwd=ROOT).returncode == 0:
        return argv, f"python -m {PACKAGE}.cli --help"
    return None, "pending (no working CLI yet)"


_CLI_MODULES = r"""
import contextlib, io, json, sys
from importlib.metadata import entry_points
eps = [ep for ep in entry_points(group="console_scripts") if ep.name == "fc-invocation"]
if eps:
    main = eps[0].load()
else:
    from pulumi_fc_invocation.cli import main
sys.argv = ["fc-invocation", "--help"]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
""" % (FORBIDDEN,)


def _compile_package() -> None:
    """Write the package's .pyc files, as a wheel install does. Editable installs compile on first
    import, and nothing is written where PYTHONDONTWRITEBYTECODE is set (it is on these machines):
    without this, every measured import would include compiling the sources."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, PACKAGE)], env=env, check=True,
                   capture_output=True)


def startup(section: Section, *, repeats: int) -> dict[str, Any]:
    py = sys.executable
    _compile_package()
    cli_argv, cli_label = _cli_command()
    commands: list[tuple[str, list[str]]] = [
        ("python -c pass", [py, "-c", "pass"]),
        (f'python -c "{BASELINE}" (baseline)', [py, "-c", BASELINE]),
    ]
    commands += [(f'python -c "{code}"', [py, "-c", code]) for _, code in IMPORTS]
    if cli_argv is not None:
        commands.append((cli_label, cli_argv))
    for _, argv in commands:  # warm the OS page cache and .pyc files
        _wall(argv)
    walls: dict[str, list[float]] = {label: [] for label, _ in commands}
    ratios: dict[str, list[float]] = {"import": [], "client": [], "cli": []}
    for _ in range(repeats):
        this = {label: _wall(argv) for label, argv in commands}
        for label, value in this.items():
            walls[label].append(value)
        base = this[commands[1][0]]
        ratios["import"].append(this[commands[2][0]] / base)
        ratios["client"].append(this[commands[3][0]] / base)
        if cli_argv is not None:
            ratios["cli"].append(this[cli_label] / base)

    own_self: dict[str, list[float]] = {key: [] for key, _ in IMPORTS}
    own_cumulative_minus_deps: dict[str, list[float]] = {key: [] for key, _ in IMPORTS}
    top_modules: dict[str, list[int]] = {}
    extra_deps: dict[str, list[int]] = {}
    on_top: list[float] = []
    for _ in range(max(3, repeats // 2)):
        on_top.append(_on_top_ms())
        base_times = _importtime(BASELINE)
        for key, code in IMPORTS:
            times = _importtime(code)
            mine = {name: t for name, t in times.items() if name == PACKAGE or name.startswith(PACKAGE + ".")}
            own_self[key].append(sum(t[0] for t in mine.values()) / 1000)
            # Everything this import pulls in that `import requests, pydantic` does not, own modules included.
            new = {name: t for name, t in times.items() if name not in base_times}
            own_cumulative_minus_deps[key].append(sum(t[0] for t in new.values()) / 1000)
            if key == "client":
                for name, t in mine.items():
                    top_modules.setdefault(name, []).append(t[0])
                for name, t in new.items():
                    if name not in mine:
                        extra_deps.setdefault(name, []).append(t[0])

    leaked: Optional[list[str]] = None
    if cli_argv is not None:
        proc = subprocess.run([py, "-c", _CLI_MODULES], capture_output=True, text=True, env=_env(), cwd=ROOT)
        if proc.returncode == 0 and proc.stdout.strip():
            leaked = json.loads(proc.stdout.strip().splitlines()[-1])

    rows = [[f"`{label}`", Stat.of(values).fmt(1)] for label, values in walls.items()]
    section.add(f"Wall time of fresh interpreters ({repeats} runs each, interleaved; warm page cache and .pyc), "
                f"median (min-max) in ms:", "")
    section.table(["command", "wall ms"], rows)
    import_ratio = Stat.of(ratios["import"])
    section.table(["ratio (within each run)", "value"],
                  [[f"import {PACKAGE} / baseline", import_ratio.fmt(2)],
                   [f"from {PACKAGE} import FcClient / baseline", Stat.of(ratios["client"]).fmt(2)]]
                  + ([[f"{cli_label} / baseline", Stat.of(ratios['cli']).fmt(2)]] if cli_argv is not None else
                     [["fc-invocation --help / baseline", "pending"]]))
    own = Stat.of(on_top)
    section.add(f"`python -X importtime` ({max(3, repeats // 2)} runs): the package's own modules' self time summed, "
                f"and everything the statement loads beyond `{BASELINE}` (own modules plus extra dependencies):", "")
    section.table(["statement", "own modules, self ms", "beyond the baseline, ms"],
                  [[f"`{code}`", Stat.of(own_self[key]).fmt(1), Stat.of(own_cumulative_minus_deps[key]).fmt(1)]
                   for key, code in IMPORTS])
    slowest = sorted(((statistics_median(v), k) for k, v in top_modules.items()), reverse=True)[:6]
    section.add("(`-X importtime` does not report `pulumi_fc_invocation.client` itself when it is loaded through "
                "the package's lazy `__getattr__`, so the first column misses that module.)", "")
    section.add(f"**The package's own import on top of its dependencies**: in a fresh interpreter that has already "
                f"imported requests, urllib3, pydantic and the pydantic names the package uses, and defined one "
                f"throwaway model (pydantic loads its schema machinery, ~30-60 ms, at the first model any "
                f"package defines: a dependency cost), "
                f"`from {PACKAGE} import FcClient` takes **{own.fmt(1, ' ms')}** (perf_counter around the statement; "
                f"this includes building the pydantic models' validators, which is the package's own cost).", "")
    section.add("Own modules loaded by the client import, self time (median µs): "
                + ", ".join(f"`{k}` {v:.0f}" for v, k in slowest) + ".", "")
    extra = sorted(((statistics_median(v), k) for k, v in extra_deps.items()), reverse=True)[:6]
    if extra:
        section.add("Largest extra dependencies (median µs self): "
                    + ", ".join(f"`{k}` {v:.0f}" for v, k in extra) + ".", "")
    literal = Stat.of(own_self["import"]).median
    section.target("the package's own import under 40 ms", own.median < 40.0,
                   f"`from {PACKAGE} import FcClient` on top of its dependencies: {own.median:.1f} ms; "
                   f"bare `import {PACKAGE}` (lazy exports): {literal:.1f} ms own modules' self time")
    if cli_argv is None:
        section.target("the CLI imports neither pulumi nor grpc", None, "CLI pending")
    else:
        section.add(f"CLI imports: modules of {', '.join(FORBIDDEN)} loaded by `{cli_label}`: "
                    f"{'none' if leaked == [] else leaked}.", "")
        section.target("the CLI imports neither pulumi nor grpc", leaked == [],
                       "none loaded" if leaked == [] else f"loaded: {leaked[:8] if leaked else 'check failed'}")
    return {"own_ms": own, "import_ratio": import_ratio, "cli": cli_label, "leaked": leaked}


def statistics_median(values: list[int]) -> float:
    import statistics

    return statistics.median(values)
