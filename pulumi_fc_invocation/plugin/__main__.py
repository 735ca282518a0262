"""Entry point of the plugin: ``python -m pulumi_fc_invocation.plugin`` (see ``__init__.main``), or this
directory run as a script by the Python language host (``python <dir>``, for PulumiPlugin.yaml)."""

import os
import sys

if __package__ in (None, ""):
    # Run as `python <this dir>`: sys.path[0] is this directory, whose module names (server, provider)
    # must not shadow anything; the package comes from the interpreter's site-packages.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]

from pulumi_fc_invocation.plugin import main  # noqa: E402

if __name__ == "__main__":
    main()
