"""The harness's one touch of the Pulumi SDK's private names, with its evidence.

``settings_defaults_restored``: ``pulumi._utils.ContextProperty.fset`` also overwrites the property's
process-wide *default* when the current value is None (``if self._data.get() is None: self.__default
= v``, pulumi 3.x ``_utils.py``), which leaks a run's monitor and engine stub into every context that
never set them (any new thread). ``set_mocks`` has the same leak; the harness puts the defaults back
through the name-mangled ``_ContextProperty__default``. Covered by ``tests/test_harness.py`` (runs one
after another in one process, nothing leaked into the caller).
"""

from __future__ import annotations

import contextlib

from pulumi.runtime import settings as _settings

__all__ = ["settings_defaults_restored"]


@contextlib.contextmanager
def settings_defaults_restored():
    """Undo a side effect of setting SDK settings even inside a copied context (see the module docstring)."""
    props = [p for p in vars(_settings.Settings).values() if hasattr(p, "_ContextProperty__default")]
    saved = [p._ContextProperty__default for p in props]
    try:
        yield
    finally:
        for prop, default in zip(props, saved):
            prop._ContextProperty__default = default
