"""The Pulumi front end: the data sources (``resources``, thin classes over their descriptions in
:mod:`..sources`), their function forms (``functions``), their dynamic providers (``providers``), the
program side of a gate (``program``, ``verdict``), the Python signatures (``signatures``), the
refresh/destroy notice (``operation``) and every workaround of a Pulumi SDK defect (``sdk_workarounds``).
The gate itself is :mod:`..gate`, shared with the plugin and the CLI.

Importing this package imports Pulumi; the top-level package loads it on first use only.
"""
