"""The plugin's words for a user error: where a YAML or TypeScript program's user sets a setting
(:func:`plugin_setting`) and the one line the engine prints (:func:`user_message`), shared by the data
sources' resources and functions (:mod:`.provider`) and the runs (:mod:`.runs`)."""

from __future__ import annotations

from ..credentials import SETTING_SOURCES, config_keys
from ..errors import FcInvocationError
from ..gate.explain import explain
from ..models import redact
from ..sources import PACKAGE, camel

__all__ = ["plugin_setting", "user_message"]


def plugin_setting(name: str) -> str:
    """The plugin's vocabulary for :func:`..gate.explain.explain`: where a YAML or TypeScript program's user
    sets ``name`` (its ``fc-invocation:*`` key, or the environment where it has none)."""
    keys = config_keys(name, (PACKAGE,))
    return " or ".join(f"`{key}`" for key in keys) if keys else " or ".join(SETTING_SOURCES[name]["env"])


def user_message(error: FcInvocationError, secrets: tuple[str, ...], *, stored: bool = False) -> str:
    """The one line the engine prints for ``error``: a settings, credentials, authentication or network error
    named with its ``fc-invocation:*`` setting (an argument in camelCase) and the fix (``stored``: the read ran
    with the settings a plain ``pulumi refresh`` takes from the state), any other error (a verdict) as it is;
    secrets masked."""
    text = explain(error, plugin_setting, stored=stored, arguments=camel)
    return redact(text or str(error), secrets)
