"""The provider plugin ``fc-invocation``: the same gates for TypeScript, Go, C# and YAML programs.

A real Pulumi resource provider, served with ``pulumi.provider.experimental`` (:mod:`.server`). It answers
GetSchema with the package schema, Invoke with the four functions (read now, never wait) and implements the
gates as resources (:mod:`.provider`): create waits, read refreshes, update checks again, delete forgets.
The gate itself (verdicts, the wait, progress, secrets) is :mod:`pulumi_fc_invocation.gate`, shared with
the Python data sources and the CLI; the resources and functions are the data sources of :mod:`..sources`.

It ships as an executable plugin (:mod:`.pack`), the form every Pulumi language loads with no language
host in between:

* ``pulumi-resource-fc-invocation``, the wheel's console script (ambient when its ``bin`` is on ``PATH``);
* ``python -m pulumi_fc_invocation.plugin --pack DIR``: a tarball for ``pulumi plugin install --file``;
* ``python -m pulumi_fc_invocation.plugin --install``: that tarball, installed with the ``pulumi`` on ``PATH``.
"""

from __future__ import annotations

import sys
from typing import Optional

__all__ = ["main"]

USAGE = """usage: python -m pulumi_fc_invocation.plugin [--pack DIR | --install | [flags] ENGINE]
  --pack DIR   write DIR/pulumi-resource-fc-invocation-v{VERSION}-{os}-{arch}.tar.gz (its path: the last line)
  --install    pack and `pulumi plugin install` it (the pulumi on PATH, or FC_INVOCATION_PULUMI)
  ENGINE       serve the engine at that address (what the engine runs)"""
# The old `--directory` printed a `runtime: python` plugin directory, which the official Python host cannot
# start (pulumi/pulumi#20756); kept only so that old scripts get a clear answer.
NO_DIRECTORY = ("--directory is gone: the official Python host cannot start a runtime: python plugin directory "
                "(pulumi/pulumi#20756); install the executable plugin with --install, or --pack DIR for "
                "`pulumi plugin install --file`")


def main(argv: Optional[list[str]] = None) -> None:
    """The console script ``pulumi-resource-fc-invocation`` and ``python -m pulumi_fc_invocation.plugin``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["--help"], ["-h"]):
        print(USAGE)
        return
    if argv[:1] == ["--directory"]:
        sys.exit(NO_DIRECTORY)
    if argv[:1] == ["--pack"]:
        if len(argv) != 2 or argv[1].startswith("-"):
            sys.exit("--pack needs one argument, the directory to write the tarball into\n" + USAGE)
        from .pack import pack

        try:
            print(pack(argv[1]))
        except (RuntimeError, ValueError) as exc:
            sys.exit(f"--pack: {exc}")
        return
    if argv[:1] == ["--install"]:
        if len(argv) != 1:
            sys.exit("--install takes no argument (name the CLI with FC_INVOCATION_PULUMI)\n" + USAGE)
        from .pack import install

        try:
            install()
        except (FileNotFoundError, RuntimeError) as exc:
            sys.exit(f"--install: {exc}")
        return
    from .server import main as serve

    serve(argv)
