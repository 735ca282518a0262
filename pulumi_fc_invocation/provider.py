"""Alias kept for state written by 0.1: it pickled the provider by reference, as this module's
``StatefulAsyncInvocationProvider``. The provider lives in :mod:`.pulumi.providers`."""

from .pulumi.providers import StatefulAsyncInvocationProvider

__all__ = ["StatefulAsyncInvocationProvider"]
