"""Scenario files: functions, invocations and extra credentials to pre-load, as JSON.

Used by ``FcEmulator(scenario=path_or_dict)`` and ``fc-invocation emulator --scenario file.json``.
Keys are camelCase (snake_case is accepted too); unknown keys are errors, so a typo fails loudly::

    {
      "functions": [
        {"service": "video", "function": "transcode", "qualifiers": ["LATEST", "prod", "3"],
         "outcome": "Succeeded", "duration": 5, "queueDelay": 1, "retries": 0, "retryDelay": 1,
         "errorMessage": null, "returnPayload": "{\\"ok\\": true}", "destination": false, "stopDelay": 0},
        {"service": null, "function": "migrate", "failFirst": 1, "failOnPayload": "{\\"v\\": 2}"}
      ],
      "invocations": [
        {"service": "video", "function": "transcode", "invocationId": "job-1", "qualifier": "prod",
         "timeline": [["Enqueued", 0], ["Running", 1], ["Succeeded", 5]],
         "payload": "{}", "returnPayload": "done", "startedAgo": 60},
        {"service": "video", "function": "transcode", "invocationId": "job-2",
         "outcome": "Failed", "errorMessage": "UnhandledException", "retries": 2,
         "startedAt": 1767225600000}
      ],
      "credentials": [
        {"accessKeyId": "STS.tmp", "accessKeySecret": "s", "securityToken": "tok", "expired": false,
         "expiresIn": 3600}
      ],
      "retention": null
    }

Every function key except ``service``/``function`` is optional (defaults as ``FcEmulator.add_function``,
``asyncTask`` included); ``"service": null`` is an FC 3.0 function (also for its invocations).
``failFirst`` / ``failOnPayload`` (a string) are the runs that fail by rule (``add_function``).
A credential's ``expiresIn`` is seconds after load on the emulator clock, ``expiresAt`` epoch seconds.
An invocation takes either a ``timeline`` (``[status, secondsAfterStart]`` or
``[status, seconds, detail]`` or ``{"status", "at", "detail"}``) or script keys (``outcome``,
``duration``, ...) overriding its function's; ``startedAt`` is epoch **milliseconds** (as FC's
``startedTime``) or ISO-8601, ``startedAgo`` is seconds before the emulator clock at load time;
without either the invocation starts at load time. Unknown functions are registered on the fly.
``"retention"`` (seconds, or null: forever) is how long a task's record is kept after it starts
(default FC's 7 days); an invocation that started before that is an error, since FC would have
forgotten it.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Union

from ..models import parse_time
from .models import check_retention

__all__ = ["ScenarioError", "load_scenario", "apply_scenario"]

_FUNCTION_KEYS = {"service", "function", "qualifiers", "outcome", "duration", "queue_delay", "error_message",
                  "return_payload", "retries", "retry_delay", "stop_delay", "destination", "async_task",
                  "fail_on_payload", "fail_first"}
_INVOCATION_KEYS = {"service", "function", "invocation_id", "qualifier", "timeline", "payload", "return_payload",
                    "error_message", "started_at", "started_ago", "request_id", "destination", "stop_delay",
                    "outcome", "duration", "queue_delay", "retries", "retry_delay"}
_CREDENTIAL_KEYS = {"access_key_id", "access_key_secret", "security_token", "expired", "expires_at", "expires_in"}
_TOP_KEYS = {"functions", "invocations", "credentials", "retention", "description", "$schema"}


class ScenarioError(ValueError):
    """The scenario is malformed; the message names the entry and the key."""


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def _entries(data: dict[str, Any], section: str, allowed: set[str], required: tuple[str, ...]) -> list[dict[str, Any]]:
    items = data.get(section) or []
    if not isinstance(items, list):
        raise ScenarioError(f"scenario: {section!r} must be a list")
    out = []
    for index, item in enumerate(items):
        where = f"scenario {section}[{index}]"
        if not isinstance(item, dict):
            raise ScenarioError(f"{where} must be an object")
        entry = {_snake(k): v for k, v in item.items()}
        unknown = set(entry) - allowed
        if unknown:
            raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
        missing = [k for k in required if entry.get(k) in (None, "")]
        if missing:
            raise ScenarioError(f"{where}: missing {missing}")
        out.append(entry)
    return out


def load_scenario(source: Union[str, os.PathLike, dict]) -> dict[str, Any]:
    """Read a scenario from a path (JSON) or take a dict; checks the top-level shape."""
    if isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {source}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ScenarioError(f"scenario {source} is not valid JSON: {exc}") from None
        except RecursionError:
            raise ScenarioError(f"scenario {source} is nested too deeply") from None
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a JSON object")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ScenarioError(f"scenario: unknown top-level keys {sorted(unknown)}; use functions, invocations, "
                            "credentials, retention")
    if "retention" in data:
        try:
            check_retention(data["retention"])
        except ValueError as exc:
            raise ScenarioError(f"scenario: {exc}") from None
    return data


def apply_scenario(emulator: Any, source: Union[str, os.PathLike, dict]) -> None:
    """Register the scenario's credentials, functions and invocations on ``emulator``."""
    data = load_scenario(source)
    for index, entry in enumerate(_entries(data, "credentials", _CREDENTIAL_KEYS,
                                           ("access_key_id", "access_key_secret"))):
        expires_at = entry.get("expires_at")
        if entry.get("expires_in") is not None:
            if expires_at is not None:
                raise ScenarioError(f"scenario credentials[{index}]: give expiresAt or expiresIn, not both")
            expires_in = entry["expires_in"]
            if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or not math.isfinite(expires_in):
                raise ScenarioError(f"scenario credentials[{index}]: expiresIn must be a number of seconds")
            expires_at = emulator.clock.now() + expires_in
        _call(f"scenario credentials[{index}]", emulator.add_credentials, entry["access_key_id"],
              entry["access_key_secret"], entry.get("security_token"), bool(entry.get("expired", False)),
              expires_at=expires_at)
    for index, entry in enumerate(_entries(data, "functions", _FUNCTION_KEYS, ("function",))):
        _need_service(f"scenario functions[{index}]", entry)
        service, function = entry.pop("service"), entry.pop("function")
        qualifiers = entry.pop("qualifiers", ["LATEST"])
        _call(f"scenario functions[{index}]", emulator.add_function, service, function, qualifiers,
              **{k: v for k, v in entry.items() if v is not None})
    now = emulator.clock.now()
    for index, entry in enumerate(_entries(data, "invocations", _INVOCATION_KEYS,
                                           ("function", "invocation_id"))):
        where = f"scenario invocations[{index}]"
        _need_service(where, entry)
        if "started_at" in entry and "started_ago" in entry:
            raise ScenarioError(f"{where}: give startedAt or startedAgo, not both")
        if "started_ago" in entry:
            ago = entry.pop("started_ago")
            if isinstance(ago, bool) or not isinstance(ago, (int, float)) or not math.isfinite(ago):
                raise ScenarioError(f"{where}: startedAgo must be a finite number of seconds, not {ago!r}")
            entry["started_at"] = now - float(ago)
        elif entry.get("started_at") is not None:
            try:
                parsed = parse_time(entry["started_at"])
            except ValueError as exc:
                raise ScenarioError(f"{where}: startedAt: {exc}") from None
            entry["started_at"] = parsed.timestamp() if parsed else None
        args = [entry.pop("service"), entry.pop("function"), entry.pop("invocation_id")]
        _call(where, emulator.add_invocation, *args, **{k: v for k, v in entry.items() if v is not None})


def _need_service(where: str, entry: dict[str, Any]) -> None:
    """``service`` must be given: a name (FC 2.0) or null (FC 3.0), so a forgotten key is not silently 3.0."""
    if "service" not in entry or entry["service"] == "":
        raise ScenarioError(f"{where}: missing ['service'] (null for an FC 3.0 function)")


def _call(where: str, method: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return method(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    except Exception as exc:  # e.g. a duplicate invocation id (EmulatorError)
        raise ScenarioError(f"{where}: {exc}") from None
