"""Imports run one way (issue 25, outcome 3): from the vocabulary up to the front ends, no cycles, no
module of the package reaches into another's private (``_underscore``) names or a dependency's (outside
the one workarounds module), and none takes a name that its module serves only through ``__getattr__``.

``LAYERS`` below is the one place that states the direction; the tables after it name each exception.
The check reads the package's source with ``ast`` (nothing is imported), counting every import: module
level, inside functions (lazy) and under ``TYPE_CHECKING``. It sees private names taken from modules
(``from x import _y``, ``x._y``), not attributes of objects (``response._content``): those are for review.
Run this file as a script to print every violation with its file and line."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "pulumi_fc_invocation"

# The layers, lowest first. A module may import from its own layer's rooms or from lower layers, never from a
# higher one. A room is a module or a subpackage (with everything below it).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # L0 vocabulary: errors, the one clock, statuses/times/secret masking, and the HTTP vocabulary that
    # credentials and transport share (capped bodies, exception mapping, error bodies, the plain-HTTP warning);
    # the package's version.
    ("vocabulary", ("errors", "clock", "models", "wire", "version")),
    # L1 the two signature schemes (FC 2.0's, ACS3-HMAC-SHA256): pure functions of a request.
    ("signing", ("signing",)),
    # L2 credentials: one provider per source, the precedence as a list (STS and RPC calls sign with L1).
    ("credentials", ("credentials",)),
    # L3 transport: one HTTP session, the signing auth step, retries, the per-call deadline.
    ("transport", ("transport",)),
    # L4 the API revisions: refs, request shapes, results of FC 2.0 and FC 3.0.
    ("apis", ("fc2", "fc3")),
    # L5 the client: the API revisions over the transport.
    ("client", ("client",)),
    # L6 the waiter: policy, schedules, estimates, history, the loop (the clock injected, no I/O of its own).
    ("waiter", ("waiter",)),
    # L7 what is read: one description per data source (sources/, pure data) and the per-API work item (kinds).
    ("descriptions", ("sources", "kinds")),
    # L8 the gate core: spec -> read -> wait -> verdict -> outputs, its reporters and the operation detection.
    ("gate", ("gate",)),
    # L9 the plugin's schema, built from the descriptions.
    ("schema", ("schema",)),
    # L10 the workarounds of the Pulumi SDK's defects, the one module that touches a dependency's private names
    # (with the vocabulary as its ceiling: see CEILING); the front ends that need one import it from here.
    ("workarounds", ("sdk_workarounds",)),
    # L11 front ends, which do not import each other (but see FRONT_END_LAZY): the Pulumi dynamic data sources
    # and functions, the plugin, the CLI, the emulator and Pulumi harness, the demo.
    ("front ends", ("pulumi", "plugin", "cli", "testing", "demo")),
)
# Modules that belong to a room they are not named for: 0.1 pickled the dynamic providers by these module
# paths, so state written then still reads (tests/test_layout.py); each re-exports its provider from pulumi/.
ROOM_OF_ALIAS = {"provider": "pulumi", "batch_provider": "pulumi"}
FRONT_ENDS = LAYERS[-1][1]
# The only imports from one front end into another, and only from inside a function (loaded on use).
FRONT_END_LAZY = (
    ("cli", "testing.emulator_cli"),  # the `fc-invocation emulator` subcommand
    ("demo", "testing"),  # the demo runs the emulator and the harness
)
# Rooms held to a lower ceiling than their layer's: the descriptions are pure data; the SDK workarounds take
# nothing of ours above the vocabulary.
CEILING = {"sources": 0, "sdk_workarounds": 0}
# Upward imports kept only to serve a name that moved, each inside the module's PEP 562 ``__getattr__`` that
# warns DeprecationWarning (so nothing runs them at import time, and a user is told where the name lives now).
COMPAT = (
    ("models", "fc2"),  # 0.1's FC 2.0 names (InvocationRef, validate_invocation_id...) in models
)
# The package's __init__ is its front door: it may name anything (lazily); the rooms take nothing from it (the
# version too lives in a room of its own, version).
FACADE_NAMES: tuple[str, ...] = ()
# The one module allowed to touch a dependency's private names (each with its evidence and test).
DEPENDENCY_WORKAROUNDS = (f"{PACKAGE}.sdk_workarounds",)

LAYER_OF = {room: index for index, (_, rooms) in enumerate(LAYERS) for room in rooms}


def module_files(root: Path = ROOT) -> dict[str, str]:
    """Module name -> its path relative to ``root``, for every module of the package below ``root``."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = str(path.relative_to(root))
    return modules


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def room_of(module: str) -> str | None:
    """The room (a key of LAYER_OF) that holds ``module``; None for the facade or an unplaced module."""
    parts = module.split(".")[1:]
    room = ROOM_OF_ALIAS.get(parts[0], parts[0]) if parts else None
    return room if room in LAYER_OF else None


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of the package, or a dependency's module
    names: tuple[str, ...]  # names taken from target (empty for `import target`)
    where: str  # file:line
    lazy: bool  # inside a function
    compat: bool = False  # inside a module-level __getattr__ that warns DeprecationWarning


def resolve_from(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if is_package else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


class Reader(ast.NodeVisitor):
    """Collects one module's imports, and its uses of private names of the modules it imports."""

    def __init__(self, module: str, modules: dict[str, str]):
        self.module, self.modules, self.path = module, modules, modules[module]
        self.imports: list[Import] = []
        self.private: list[tuple[str, str]] = []  # (file:line, "module._name")
        self.bound: dict[str, str] = {}  # local name -> the module it names
        self.defined: set[str] = set()  # the module's top-level names
        self.star = False  # it defines names by `from x import *`
        self.depth = 0  # functions around the node being read
        self.classes = 0
        self.compat = False  # inside a deprecation __getattr__

    def define(self, *names: str) -> None:
        if self.depth == 0 and self.classes == 0:
            self.defined.update(names)

    def visit_FunctionDef(self, node):
        self.define(getattr(node, "name", ""))
        compat = (self.depth == 0 and self.classes == 0 and getattr(node, "name", "") == "__getattr__"
                  and any(isinstance(n, ast.Name) and n.id == "DeprecationWarning" for n in ast.walk(node)))
        self.depth += 1
        self.compat |= compat
        self.generic_visit(node)
        self.compat &= not compat
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef):
        self.define(node.name)
        self.classes += 1
        self.generic_visit(node)
        self.classes -= 1

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Store):
            self.define(node.id)

    def visit_Import(self, node: ast.Import):
        for alias in node.names:
            self.imports.append(Import(self.module, alias.name, (), f"{self.path}:{node.lineno}", self.depth > 0,
                                       self.compat))
            local = alias.asname or alias.name.split(".")[0]
            self.bound[local] = alias.name if alias.asname else local
            self.define(local)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        source = resolve_from(self.module, self.path.endswith("__init__.py"), node)
        where, plain = f"{self.path}:{node.lineno}", []
        for alias in node.names:
            if alias.name == "*":
                self.star |= self.depth == 0
                continue
            self.define(alias.asname or alias.name)
            submodule = f"{source}.{alias.name}"
            if submodule in self.modules:  # `from package import module`
                self.imports.append(Import(self.module, submodule, (), where, self.depth > 0, self.compat))
                self.bound[alias.asname or alias.name] = submodule
                if is_private(alias.name) and not under(self.module, source):
                    self.private.append((where, submodule))
            else:
                plain.append(alias.name)
                if is_private(alias.name) and source != self.module:
                    self.private.append((where, f"{source}.{alias.name}"))
        if plain or any(alias.name == "*" for alias in node.names):
            self.imports.append(Import(self.module, source, tuple(plain), where, self.depth > 0, self.compat))

    def visit_Attribute(self, node: ast.Attribute):
        chain = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in self.bound:
            module = self.bound[value.id]
            attrs = list(reversed(chain))
            while attrs and f"{module}.{attrs[0]}" in self.modules:  # down the package's modules
                module = f"{module}.{attrs.pop(0)}"
            for index, attr in enumerate(attrs):  # then the first private name of what it holds
                if is_private(attr) and module != self.module:
                    self.private.append((f"{self.path}:{node.lineno}", ".".join([module, *attrs[:index + 1]])))
                    break
            return  # the inner Attribute nodes are this chain's prefixes: seen
        self.generic_visit(node)


def read_all(root: Path = ROOT) -> dict[str, Reader]:
    modules = module_files(root)
    readers = {}
    for module, path in modules.items():
        reader = Reader(module, modules)
        reader.visit(ast.parse((root / path).read_text(encoding="utf-8"), path))
        readers[module] = reader
    return readers


def target_module(target: str, readers: dict[str, Reader]) -> str | None:
    """The package module an import names (the longest known prefix), or None for a dependency."""
    while target and target not in readers:
        if any(module.startswith(target + ".") for module in readers):  # a folder without __init__.py
            return target
        target = target.rpartition(".")[0]
    return target or None


def layer_name(room: str) -> str:
    index = LAYER_OF[room]
    return f"L{index} {LAYERS[index][0]}"


def direction_violations(readers: dict[str, Reader]) -> list[str]:
    found = []
    for module, reader in readers.items():
        if module != PACKAGE and room_of(module) is None:
            found.append(f"{reader.path}:1: {module} is in no room of LAYERS")
    for reader in readers.values():
        for imp in reader.imports:
            target = target_module(imp.target, readers)
            if target is None or reader.module == PACKAGE or target == reader.module:
                continue
            if target == PACKAGE:
                extra = [n for n in imp.names if n not in FACADE_NAMES] or (["(the package)"] if not imp.names else [])
                if extra:
                    found.append(f"{imp.where}: {reader.module} imports {', '.join(extra)} from the package's "
                                 "__init__ (import it from its room)")
                continue
            room, other = room_of(reader.module), room_of(target)
            if room is None or other is None or room == other:
                continue
            what = f"{reader.module} ({layer_name(room)}) imports {target} ({layer_name(other)})"
            if imp.compat and (room, other) in COMPAT:
                continue
            if LAYER_OF[other] > CEILING.get(room, LAYER_OF[room]):
                found.append(f"{imp.where}: {what}: upward")
            elif room in FRONT_ENDS and other in FRONT_ENDS:
                allowed = imp.lazy and any(under(reader.module, f"{PACKAGE}.{a}") and under(target, f"{PACKAGE}.{b}")
                                           for a, b in FRONT_END_LAZY)
                if not allowed:
                    found.append(f"{imp.where}: {what}: one front end into another"
                                 + ("" if imp.lazy else " at import time"))
    return found


def private_violations(readers: dict[str, Reader]) -> list[str]:
    found = []
    stdlib = sys.stdlib_module_names
    for reader in readers.values():
        for where, name in reader.private:
            owner = name.rpartition(".")[0]
            while owner.count(".") and owner not in readers:  # a class's private name: its module owns it
                owner = owner.rpartition(".")[0]
            if owner.split(".")[0] == PACKAGE:
                found.append(f"{where}: {reader.module} uses {name}, a private name of {owner}")
            elif owner.split(".")[0] not in stdlib and reader.module not in DEPENDENCY_WORKAROUNDS:
                found.append(f"{where}: {reader.module} uses {name}, a dependency's private name "
                             f"(only {', '.join(DEPENDENCY_WORKAROUNDS)} may)")
    return found


def undefined_name_violations(readers: dict[str, Reader]) -> list[str]:
    """A module of the package takes from another only what that one defines: not a name served by its
    ``__getattr__`` (a moved name that warns, or a lazy one), so no room leans on a compatibility path."""
    found = []
    for reader in readers.values():
        for imp in reader.imports:
            source = readers.get(imp.target)
            if source is None or source.star or imp.target == PACKAGE:  # the facade: see direction_violations
                continue
            for name in imp.names:
                if name not in source.defined:
                    found.append(f"{imp.where}: {reader.module} takes {name} from {imp.target}, which does not "
                                 "define it (a moved or lazy name: import it from where it lives)")
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def cycle_violations(readers: dict[str, Reader]) -> list[str]:
    """Cycles among modules and among rooms. The facade stays out: it names every room and is imported
    first anyway (and the rooms take nothing from it: direction_violations)."""
    modules: dict[str, set[str]] = {}
    rooms: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for reader in readers.values():
        for imp in reader.imports:
            target = target_module(imp.target, readers)
            if target is None or target == reader.module or PACKAGE in (target, reader.module):
                continue
            if imp.compat and (room_of(reader.module), room_of(target)) in COMPAT:
                continue
            modules.setdefault(reader.module, set()).add(target)
            where.setdefault((reader.module, target), imp.where)
            room, other = room_of(reader.module), room_of(target)
            if room and other and room != other:
                rooms.setdefault(room, set()).add(other)
                rooms.setdefault(other, set())
                where.setdefault((room, other), imp.where)
    found = []
    for component in strongly_connected(modules):
        edges = [f"{a} -> {b} ({where[a, b]})" for a in component for b in sorted(modules[a]) if b in component]
        found.append("import cycle among modules: " + "; ".join(edges))
    for component in strongly_connected(rooms):
        edges = [f"{a} -> {b} ({where[a, b]})" for a in component for b in sorted(rooms[a]) if b in component]
        found.append("import cycle among rooms: " + "; ".join(edges))
    return found


def test_layers_name_each_room_once_and_the_rooms_exist():
    rooms = [room for _, names in LAYERS for room in names]
    assert len(rooms) == len(set(rooms)), rooms
    missing = [room for room in rooms
               if not (ROOT / PACKAGE / room).is_dir() and not (ROOT / PACKAGE / f"{room}.py").is_file()]
    assert not missing, missing
    for a, b in FRONT_END_LAZY:
        assert a.split(".")[0] in FRONT_ENDS and b.split(".")[0] in FRONT_ENDS


@pytest.mark.parametrize("check", [direction_violations, cycle_violations, private_violations,
                                   undefined_name_violations], ids=lambda check: check.__name__)
def test_the_package_keeps_the_rule(check):
    """Imports run down the layers; no cycle; no other module's private name; no name served by __getattr__."""
    found = check(read_all())
    assert not found, "\n".join(found)


def test_the_checks_see_what_they_refuse(tmp_path):
    """The checks on a small made-up package: what each one refuses, and what the tables allow (a lazy
    front-end import listed in FRONT_END_LAZY, a COMPAT import inside a warning __getattr__)."""
    files = {
        "__init__.py": "",
        "models.py": ("def __getattr__(name):\n    import warnings\n    warnings.warn(name, DeprecationWarning)\n"
                      "    from . import fc2\n    return getattr(fc2, name)\n\n\n"
                      "def helper():\n    from . import client\n"),
        "fc2.py": ("from .models import _mask, Moved\nfrom . import models\nx = models._mask\n"
                   "from . import client\n"),
        "client.py": "from .fc2 import x\n",
        "cli.py": "def run():\n    from .testing.emulator_cli import main\n",
        "demo.py": "from .testing import emulator_cli\n",
        "testing/__init__.py": "",
        "testing/emulator_cli.py": "from .. import __version__\nmain = None\n",
        "pulumi/__init__.py": "import pulumi.runtime\nfrom pulumi.runtime import _sync_await\npulumi.runtime._x()\n",
        "stray.py": "",
    }
    for name, text in files.items():
        (tmp_path / PACKAGE / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / PACKAGE / name).write_text(text)
    readers = read_all(tmp_path)
    assert direction_violations(readers) == [
        f"{PACKAGE}/stray.py:1: {PACKAGE}.stray is in no room of LAYERS",
        f"{PACKAGE}/demo.py:1: {PACKAGE}.demo (L11 front ends) imports {PACKAGE}.testing.emulator_cli "
        "(L11 front ends): one front end into another at import time",
        f"{PACKAGE}/fc2.py:4: {PACKAGE}.fc2 (L4 apis) imports {PACKAGE}.client (L5 client): upward",
        f"{PACKAGE}/models.py:9: {PACKAGE}.models (L0 vocabulary) imports {PACKAGE}.client (L5 client): upward",
        f"{PACKAGE}/testing/emulator_cli.py:1: {PACKAGE}.testing.emulator_cli imports __version__ from the "
        "package's __init__ (import it from its room)",
    ]
    only = f"(only {PACKAGE}.sdk_workarounds may)"
    assert private_violations(readers) == [
        f"{PACKAGE}/fc2.py:1: {PACKAGE}.fc2 uses {PACKAGE}.models._mask, a private name of {PACKAGE}.models",
        f"{PACKAGE}/fc2.py:3: {PACKAGE}.fc2 uses {PACKAGE}.models._mask, a private name of {PACKAGE}.models",
        f"{PACKAGE}/pulumi/__init__.py:2: {PACKAGE}.pulumi uses pulumi.runtime._sync_await, a dependency's "
        f"private name {only}",
        f"{PACKAGE}/pulumi/__init__.py:3: {PACKAGE}.pulumi uses pulumi.runtime._x, a dependency's private name {only}",
    ]
    assert undefined_name_violations(readers) == [
        f"{PACKAGE}/fc2.py:1: {PACKAGE}.fc2 takes _mask from {PACKAGE}.models, which does not define it "
        "(a moved or lazy name: import it from where it lives)",
        f"{PACKAGE}/fc2.py:1: {PACKAGE}.fc2 takes Moved from {PACKAGE}.models, which does not define it "
        "(a moved or lazy name: import it from where it lives)",
    ]
    modules = (f"{PACKAGE}.client -> {PACKAGE}.fc2 ({PACKAGE}/client.py:1); "
               f"{PACKAGE}.fc2 -> {PACKAGE}.client ({PACKAGE}/fc2.py:4); "
               f"{PACKAGE}.fc2 -> {PACKAGE}.models ({PACKAGE}/fc2.py:1); "
               f"{PACKAGE}.models -> {PACKAGE}.client ({PACKAGE}/models.py:9)")  # not models -> fc2: COMPAT
    rooms = (f"client -> fc2 ({PACKAGE}/client.py:1); fc2 -> client ({PACKAGE}/fc2.py:4); "
             f"fc2 -> models ({PACKAGE}/fc2.py:1); models -> client ({PACKAGE}/models.py:9)")
    assert cycle_violations(readers) == [f"import cycle among modules: {modules}", f"import cycle among rooms: {rooms}"]


if __name__ == "__main__":
    everything = read_all()
    lines = (direction_violations(everything) + cycle_violations(everything) + private_violations(everything)
             + undefined_name_violations(everything))
    print("\n".join(lines) or "no violations")
    print(f"{len(lines)} violations", file=sys.stderr)
