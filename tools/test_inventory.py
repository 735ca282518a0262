"""The assertions of the test suite, counted per test, so a reshape of tests/ can show that none was lost.

``inventory`` reads every ``tests/*.py`` of a git revision (or the work tree) and counts, per test function
(parametrisation ignored: one entry per ``def``), its ``assert`` statements plus its ``pytest.raises`` /
``pytest.warns`` calls, nested functions included. Helpers (any other function holding an assertion) are
counted too, since a test's assertion may live in one. A test is keyed ``Class.name`` (or ``name``); its
file is kept beside it, so a test may change files and keep its key.

``compare`` checks a later inventory against an earlier one: every earlier test must be found (by key, or
through ``--moves old=new`` for a rename; several old keys onto one new key for twins merged into one test
parametrised over the API) with at least as many assertions as each earlier test it replaces, and the total
must not fall once a merged test is counted once per test it replaces.

    python tools/test_inventory.py inventory --rev HEAD > before.json
    python tools/test_inventory.py inventory > after.json
    python tools/test_inventory.py compare before.json after.json --moves moves.json

``tools/test_moves.json`` holds the renames and merges of the 2026-12-05 reshape (issues 25 and 26): with it,
``compare`` of 577860d against the work tree says "no assertion lost".
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("raises", "warns")


def _sources(rev: str | None) -> dict[str, str]:
    """tests/ (any depth) and tools/ (where scripts that hold helpers' assertions move), by path."""
    if rev is None:
        paths = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "tools").glob("*.py")])
        return {str(p.relative_to(ROOT)): p.read_text() for p in paths}
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "tests/", "tools/"],
                           check=True, capture_output=True, text=True).stdout.split()
    return {name: subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{name}"], check=True,
                                 capture_output=True, text=True).stdout
            for name in names if name.endswith(".py") and (name.startswith("tests/") or name.count("/") == 1)}


def _is_check(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CHECKS
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "pytest")


def _assertions(func: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assert):
            found.append(ast.unparse(node.test))
        elif _is_check(node):
            found.append(ast.unparse(node))
    return found


def _functions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item


def inventory(rev: str | None) -> dict:
    found: dict[str, list[tuple[str, str, list[str]]]] = {}
    for path, text in _sources(rev).items():
        for key, func in _functions(ast.parse(text, path)):
            checks = _assertions(func)
            if (func.name.startswith("test") and path.startswith("tests/")) or checks:
                found.setdefault(key, []).append((path, func.name, checks))
    tests: dict[str, dict] = {}
    helpers: dict[str, dict] = {}
    clashes = []
    for key, places in found.items():
        for path, name, checks in places:
            table = tests if name.startswith("test") and path.startswith("tests/") else helpers
            # a name defined in two files is keyed by file too (both sides, so neither key depends on order)
            full = key if len(places) == 1 else f"{Path(path).stem}::{key}"
            table[full] = {"file": path, "count": len(checks), "assertions": checks}
        if len(places) > 1:
            clashes.append(key)
    return {"rev": rev or "worktree", "total": sum(t["count"] for t in tests.values()),
            "tests": len(tests), "helper_total": sum(h["count"] for h in helpers.values()),
            "clashes": sorted(clashes), "inventory": tests, "helpers": helpers}


def compare(before: dict, after: dict, moves: dict[str, str]) -> list[str]:
    """The problems: earlier tests not found, or found with fewer assertions; a total that fell."""
    problems = []
    old_tests, new_tests = before["inventory"], after["inventory"]
    replaced: dict[str, list[str]] = {}
    for key, old in old_tests.items():
        new_key = moves.get(key, key)
        new = new_tests.get(new_key)
        if new is None:
            problems.append(f"lost: {key} ({old['file']}, {old['count']} assertions)")
            continue
        replaced.setdefault(new_key, []).append(key)
        if new["count"] < old["count"]:
            problems.append(f"fewer: {key} {old['count']} -> {new_key} {new['count']}")
    credited = sum(new["count"] * max(1, len(replaced.get(key, ()))) for key, new in new_tests.items())
    if credited < before["total"]:
        problems.append(f"total fell: {before['total']} -> {credited} (merged tests counted once per test replaced)")
    for name, old in before["helpers"].items():
        new = after["helpers"].get(moves.get(name, name))
        if new is None or new["count"] < old["count"]:
            problems.append(f"helper: {name} {old['count']} -> {new['count'] if new else 'gone'}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    take = sub.add_parser("inventory", help="print the inventory as JSON")
    take.add_argument("--rev", help="a git revision (default: the work tree)")
    check = sub.add_parser("compare", help="check AFTER against BEFORE; exit 1 on a lost assertion")
    check.add_argument("before")
    check.add_argument("after")
    check.add_argument("--moves", help="JSON object {old key: new key} for renamed or merged tests")
    args = parser.parse_args(argv)
    if args.command == "inventory":
        json.dump(inventory(args.rev), sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    before, after = (json.loads(Path(p).read_text()) for p in (args.before, args.after))
    moves = json.loads(Path(args.moves).read_text()) if args.moves else {}
    problems = compare(before, after, moves)
    credited = sum(t["count"] for t in after["inventory"].values())
    print(f"before: {before['tests']} tests, {before['total']} assertions ({before['rev']}); "
          f"after: {after['tests']} tests, {credited} assertions ({after['rev']})")
    for line in problems:
        print(line)
    print("no assertion lost" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
