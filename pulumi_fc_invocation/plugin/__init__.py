"""The provider plugin ``fc-invocation``: the same gates for TypeScript, Go, C# and YAML programs.

A real Pulumi resource provider, served with ``pulumi.provider.experimental`` (:mod:`.server`) and
started as ``python -m pulumi_fc_invocation.plugin <engine address>`` or through the
``PulumiPlugin.yaml`` of this directory (``runtime: python``). It answers GetSchema with the package
schema, Invoke with the four functions (read now, never wait) and implements the gates as resources
(:mod:`.provider`): create waits, read refreshes, update checks again, delete forgets. The gating itself
(verdicts, the wait, progress, secrets) is :mod:`pulumi_fc_invocation.pulumi.gating`, shared with the
Python data sources.
"""

__all__ = ["main"]


def main() -> None:
    from .server import main as serve

    serve()
