"""Benchmarks for pulumi-fc-invocation: ``python -m benchmarks`` (``make bench``) writes docs/benchmarks.md.

Each figure is the median of repeated runs with min and max; ratios are computed round by round
within the same run, so they compare contenders measured seconds apart on the same machine.
``--smoke`` runs every section at tiny N (the test suite does this, so the suite can't rot); its
figures mean nothing.
"""
