"""The CLI's exit codes, and the mapping of every failure to one of them with one line on stderr, never a
traceback (``-v`` adds the traceback of an internal error)."""

from __future__ import annotations

import logging
from typing import Any

import click

from .output import err, one_line
from .parsing import UserError

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_TIMEOUT", "EXIT_USAGE", "EXIT_API", "EXIT_INTERNAL", "EXIT_INTERRUPTED",
           "EXIT_TERMINATED", "Terminated", "on_sigterm", "api_error_line", "run"]

log = logging.getLogger("pulumi_fc_invocation.cli")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_TIMEOUT = 2
EXIT_USAGE = 3
EXIT_API = 4
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a killed job


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds (and says so) as Ctrl+C does."""


def on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


HINTS_BY_ERROR = {
    "AuthenticationError": "check the access key and secret (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET or --profile) "
                           "and the account id",
    "NotFoundError": "check the function, qualifier and id (and the service, for an FC 2.0 id)",
    "ThrottledError": "FC is throttling; retry later",
    "UnreachableError": "check --endpoint (FC_INVOCATION_ENDPOINT), or with no endpoint --region and --account-id "
                        "(ALIBABA_CLOUD_REGION, ALIBABA_CLOUD_ACCOUNT_ID), and that it is reachable from here",
    "RedirectError": "set --endpoint (FC_INVOCATION_ENDPOINT) to the host that answers; a redirect is never followed",
}


# FC codes whose fix is not the key pair: a clock or an STS token.
HINTS_BY_CODE = {
    "RequestTimeTooSkewed": "this machine's clock is off: FC refuses a request Date more than 15 minutes from "
                            "its own time; set the clock right (NTP)",
    "SecurityTokenExpired": "the STS token has expired: get a new one (ALIBABA_CLOUD_SECURITY_TOKEN or --profile)",
    "InvalidSecurityToken": "the STS token does not belong to this access key: set the key id, secret and token "
                            "from one AssumeRole answer",
}


def api_error_line(exc: BaseException) -> str:
    from ..errors import FcApiError

    name = type(exc).__name__
    if isinstance(exc, FcApiError):
        text = (f"{exc.code}: {exc.message}" if exc.code else exc.message)
        text += f" (HTTP {exc.http_status}, request id {exc.request_id or 'unknown'})" if exc.http_status \
            else f" (request id {exc.request_id or 'unknown'})"
        line = f"FC API error ({name}): {text}"
    else:
        line = f"{name}: {exc}"
    code = getattr(exc, "code", None) or ""
    hint = HINTS_BY_CODE.get(code) or ("this machine's clock is off: set it right (NTP)" if "skew" in code.lower()
                                       else HINTS_BY_ERROR.get(name))
    return one_line(f"error: {line}" + (f"; {hint}" if hint else ""))


def run(group: click.Group, prog: str, args: list[str], verbose: bool) -> int:
    """``group`` run on ``args``; every failure mapped to its exit code."""
    try:
        code = group.main(args=args, prog_name=prog, standalone_mode=False)
        return int(code or 0)
    except Terminated:
        err("error: terminated (SIGTERM)")
        return EXIT_TERMINATED
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else prog
        err(one_line(f"error: {exc.format_message()} (see '{where} --help')"))
        return EXIT_USAGE
    except click.exceptions.Abort as exc:  # click turns KeyboardInterrupt (ours too) into Abort
        if isinstance(exc.__cause__, Terminated):
            err("error: terminated (SIGTERM)")
            return EXIT_TERMINATED
        err("error: interrupted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        err(one_line(f"error: {exc.format_message()}"))
        return EXIT_USAGE
    except UserError as exc:
        err(one_line(f"error: {exc}"))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err("error: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - every failure is one line, never a traceback
        from ..errors import (
            ConfigurationError,
            FcApiError,
            FcInvocationError,
            InvalidArgumentError,
            InvocationFailedError,
            TransportError,
            WaitTimeoutError,
        )

        if isinstance(exc, ConfigurationError):
            err(one_line(f"error: {exc}; on the command line, --profile, --account-id, --region and "
                         "--endpoint set these too"))
            return EXIT_USAGE
        if isinstance(exc, InvalidArgumentError):
            err(one_line(f"error: {exc}"))
            return EXIT_USAGE
        if isinstance(exc, (FcApiError, TransportError)):
            err(api_error_line(exc))
            return EXIT_API
        if isinstance(exc, InvocationFailedError):
            err(one_line(f"error: {exc}"))
            return EXIT_FAILED
        if isinstance(exc, WaitTimeoutError):
            err(one_line(f"error: {exc}"))
            return EXIT_TIMEOUT
        if isinstance(exc, FcInvocationError):
            err(one_line(f"error: {exc}"))
            return EXIT_API
        if verbose:
            log.debug("internal error", exc_info=True)
        err(one_line(f"error: internal error {type(exc).__name__}: {exc}; please report it "
                     "(run with -v for the traceback)"))
        return EXIT_INTERNAL
