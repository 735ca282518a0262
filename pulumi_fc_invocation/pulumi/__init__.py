"""The Pulumi front end: the data sources (``resources``, thin classes over their descriptions in
:mod:`..sources`), their function forms (``functions``), their dynamic providers (``providers``), the
program side of a gate (``program``, ``verdict``), the Python signatures (``signatures``), the
refresh/destroy notice (``operation``). The workarounds of Pulumi SDK defects it applies are in
:mod:`..sdk_workarounds`, shared with the harness.
The gate itself is :mod:`..gate`, shared with the plugin and the CLI.

Importing this package imports Pulumi; the top-level package loads it on first use only.
"""
