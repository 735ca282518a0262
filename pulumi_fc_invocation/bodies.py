"""Moved to :mod:`pulumi_fc_invocation.wire`."""

from .wire import BodyTimeout, BodyTooLarge, DeadlineExceeded, read_body  # noqa: F401  # compat: removed at integration
