"""The one line a user reads when a gate cannot even ask Function Compute: a setting is missing or
broken (configuration, credentials), FC refused the credentials (authentication), or nothing answered
(network). It says what went wrong, which setting, and how to fix it, in the words of the front end
the user works in; the gate's own verdicts (a failed task, a timeout, a missing task) are not errors of
this kind and keep their words (:mod:`.messages`).

The Pulumi front ends call :func:`explain` with their *vocabulary*: a function from a setting's name (a
key of :data:`~..credentials.SETTING_SOURCES`: ``"endpoint"``, ``"access_key_secret"``, ``"region"``...)
to the text that names where the user sets it:

- a Python program: :func:`config_vocabulary` over its stack config (the key of SETTING_SOURCES the user set,
  e.g. ``` `alicloud:secretKey` ```, else the first); :data:`program_setting` (the first key), the default;
- the plugin (YAML, TypeScript...): ``config_vocabulary(("fc-invocation",))``, its own keys.

The CLI does not use this module: :mod:`..cli.exits` words its own hints (its flags and environment
variables). A vocabulary of those would be ``lambda name: FLAGS[name]``.

``stored=True`` is for a plain ``pulumi refresh``: the engine configured the read from the settings
stored in the state at the last ``pulumi up``, not from the current config, so the line names the stored
setting and says that ``pulumi refresh --run-program`` (or ``pulumi up``) reads with the current ones.

The line keeps FC's code and request id (what support asks for) and drops what only hides the point
(FC's string to sign, urllib3's connection repr). It holds no secret: the error texts it starts from are
built without credentials (:mod:`..errors`), and a caller passes any other secret text through
:func:`~..models.redact` as for every message of a gate.

:func:`explain` answers None for an error it does not explain (the caller shows ``str(error)``);
:func:`explains` says whether it words one (a caller re-raises those, to word them where the user is
looking, instead of leaving them to a later read, whose error is a traceback in a provider host), and
:data:`USER_FIXABLE` lists the classes a retry will not fix, so a wait fails on them at once (a
network error is worded too, but a wait retries it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Optional

from ..credentials import SETTING_SOURCES, config_keys
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    FcApiError,
    InvalidArgumentError,
    NotFoundError,
    RedirectError,
    TransportError,
    UnreachableError,
)
from .messages import item_not_found

__all__ = ["Vocabulary", "USER_FIXABLE", "REFRESH_FIX", "config_vocabulary", "program_setting", "explain", "explains",
           "is_user_fixable"]

Vocabulary = Callable[[str], str]
"""A setting's name (a key of SETTING_SOURCES) -> how the front end's user names it."""

# What a retry does not fix: the user must change a setting (or an argument) first.
USER_FIXABLE: tuple[type[BaseException], ...] = (ConfigurationError, InvalidArgumentError, AuthenticationError,
                                                 UnreachableError, RedirectError)

REFRESH_FIX = ("run `pulumi refresh --run-program` (or `pulumi up`), which reads with the current config "
               "and stores it")

_CREDENTIALS = ("access_key_id", "access_key_secret", "security_token")
# The settings whose rules are checked before any request (credentials.settings), which a gate may also take
# as arguments.
_CHECKED_SETTINGS = ("region", "account_id", "endpoint")


def config_vocabulary(namespaces: Optional[Collection[str]] = None,
                      config: Optional[Mapping[str, Any]] = None) -> Vocabulary:
    """The vocabulary of a front end whose user sets stack config keys (`pulumi config set`): a setting is named
    by its key of ``namespaces`` (None: every one of CONFIG_NAMESPACES, as a Python program reads them; the
    plugin: its own) that ``config`` holds, the one the user set, else by the first of them (the one to set);
    by its environment variables where it has no config key."""
    def where(name: str) -> str:
        keys = config_keys(name, namespaces)
        if not keys:
            return " or ".join(SETTING_SOURCES[name]["env"])
        return f"`{next((key for key in keys if config and config.get(key) is not None), keys[0])}`"

    return where


program_setting: Vocabulary = config_vocabulary()
"""A Python program's vocabulary with no config at hand: each setting's first config key."""


def is_user_fixable(error: BaseException) -> bool:
    """Whether ``error`` is one :func:`explain` words (a setting to fix, not a verdict or a blip), or a 404
    about the function itself (its service, alias or version: a region or account moved, a name wrong)."""
    if isinstance(error, NotFoundError):
        return not item_not_found(error)
    return isinstance(error, USER_FIXABLE)


def _ids(error: FcApiError) -> str:
    return f"{error.code or f'HTTP {error.http_status}'}, request id {error.request_id or 'unknown'}"


def _authentication(error: AuthenticationError, where: Vocabulary) -> tuple[str, str]:
    code = error.code or ""
    if code == "SignatureNotMatch":
        what = "the access key secret does not match the access key id"
        fix = f"set the right secret in {where('access_key_secret')} (and check {where('access_key_id')})"
    elif code.lower().startswith("invalidaccesskeyid"):
        what = "the access key id is unknown to Alibaba Cloud (deleted, disabled or mistyped)"
        fix = f"set an active key in {where('access_key_id')} and its secret in {where('access_key_secret')}"
    elif code in ("SecurityTokenExpired", "InvalidSecurityToken.Expired"):
        what = "the STS token has expired"
        fix = f"set a fresh token in {where('security_token')}, or use a role source that renews it"
    elif code.startswith("InvalidSecurityToken"):
        what = "the STS token is not valid for this access key"
        fix = f"set the token issued with this key in {where('security_token')}"
    elif code == "RequestTimeTooSkewed":
        what = "this machine's clock is too far from Alibaba Cloud's"
        fix = "synchronize the clock (NTP)"
    else:  # FC's message says what was denied (SignatureNotMatch's is its string to sign: left out above)
        denied = " ".join(str(error.message or "").split())
        denied = denied if len(denied) <= 300 else denied[:297] + "..."
        what = f"the credentials may not make this call: {denied}" if denied else \
            "the credentials may not make this call (a RAM policy, or a key of another account)"
        fix = (f"check that {where('account_id')} is the key's account and that its RAM policy allows the "
               f"call (docs: RAM permissions)")
    return f"Function Compute refused the credentials: {what} ({_ids(error)})", fix


def _unreachable(error: TransportError) -> str:
    endpoint, reason = getattr(error, "endpoint", None), getattr(error, "reason", None)  # set by the transport
    if not endpoint:
        return str(error)  # not a call to FC (a credentials source's): its own words
    why = "; ".join(filter(None, (reason or "no connection", getattr(error, "retried", ""))))
    return f"cannot reach Function Compute at {endpoint} ({why})"


def _endpoint_settings(where: Vocabulary) -> str:
    return f"{where('endpoint')} (or, with no endpoint set, {where('region')} and {where('account_id')})"


def _what_and_fix(error: BaseException, where: Vocabulary,
                  arguments: "bool | Vocabulary" = True) -> Optional[tuple[str, str, tuple[str, ...]]]:
    """(what went wrong, the fix, the settings involved) for an error :func:`explain` words, else None."""
    if isinstance(error, (ConfigurationError, InvalidArgumentError)):
        # Its own text names the setting or argument and the rule (credentials/*); a setting's rule names the
        # setting by its own name ("invalid region ..."): say where the user sets it.
        name = getattr(error, "argument", None) if isinstance(error, InvalidArgumentError) else error.setting
        if name in SETTING_SOURCES and name not in _CHECKED_SETTINGS:  # a credential: set in config, never an argument
            return str(error), f"check {where(name)}", (name,)
        if name not in _CHECKED_SETTINGS:
            return str(error), "", ()
        spelt = arguments(name) if callable(arguments) else name  # the caller's spelling (camelCase: the plugin)
        given = f" (or the `{spelt}` argument, where given)" if arguments else ""
        return str(error), f"check {where(name)}{given}", (name,)
    if isinstance(error, AuthenticationError):
        what, fix = _authentication(error, where)
        return what, fix, _CREDENTIALS + ("account_id",)
    if isinstance(error, RedirectError):
        return (f"the endpoint answered with a redirect, which is never followed ({_ids(error)})",
                f"set {where('endpoint')} to the host that answers, e.g. https://<accountId>.<region>.fc.aliyuncs.com",
                ("endpoint",))
    if isinstance(error, UnreachableError):
        return (_unreachable(error), f"check {_endpoint_settings(where)} and that it is reachable from here",
                ("endpoint", "region", "account_id"))
    if isinstance(error, TransportError):  # no answer in time, a cut-off answer, a header refused...
        return (str(error), f"check {_endpoint_settings(where)} and the network", ("endpoint", "region", "account_id"))
    if isinstance(error, NotFoundError) and not item_not_found(error):
        said = error.request_id and error.request_id in error.message  # a gate's words hold FC's code and id
        return (error.message if said else f"{error.message} ({_ids(error)})",
                f"check the names, and {where('region')} and {where('account_id')} (the function's region and "
                f"account)", ("region", "account_id", "endpoint"))
    return None


def explains(error: BaseException) -> bool:
    """Whether :func:`explain` words ``error`` (a setting, credentials, authentication, network or input
    error; a 404 about the function itself), rather than answering None."""
    return _what_and_fix(error, program_setting) is not None


def explain(error: BaseException, where: Vocabulary = program_setting, *, stored: bool = False,
            arguments: "bool | Vocabulary" = True) -> Optional[str]:
    """The one line for ``error`` in the vocabulary ``where`` (see the module's docstring), or None when
    ``error`` is not a settings, credentials, authentication or network error (show ``str(error)`` then).
    ``stored``: the read ran with the settings stored in the state at the last ``pulumi up`` (a plain
    ``pulumi refresh``). ``arguments``: the front end's users may also give ``region``, ``account_id`` and
    ``endpoint`` as arguments of a gate (the data sources, the plugin's resources; not the CLI); a
    :data:`Vocabulary` spells them as the user does (the plugin: ``accountId``)."""
    found = _what_and_fix(error, where, arguments)
    if found is None:
        return None
    what, fix, settings = found
    if not stored:
        return f"{what}; {fix}" if fix else what
    named = ", ".join(dict.fromkeys(where(name) for name in settings)) or "the provider settings"
    return (f"{what}. The refresh read with the settings stored in the stack's state at the last "
            f"`pulumi up` ({named}), not with the current config: if they changed since, {REFRESH_FIX}; if not, "
            f"{fix or 'fix them'}")
