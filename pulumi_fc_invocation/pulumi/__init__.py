"""The Pulumi layer: the data sources (``resources``, ``functions``), their dynamic providers
(``providers``), the one gating implementation behind them all (``gating``, API-neutral and
independent of the dynamic-provider form), the program side of a gate (``program``, ``verdict``) and
which CLI operation runs the program (``operation``).

Importing this package imports Pulumi; the top-level package loads it on first use only.
"""
