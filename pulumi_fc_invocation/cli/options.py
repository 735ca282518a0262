"""The options the commands share: the connection's (``--endpoint``, ``--region``, ``--account-id``,
``--profile``, ``-v``), the waits' (``--timeout``, ``--fail-on``, the polling), and the exit codes' help."""

from __future__ import annotations

from typing import Any, Callable

import click

__all__ = ["EXIT_CODES_HELP", "OUTPUT", "StatusChoice", "common_options", "described", "wait_options"]

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (wait: Succeeded, or a terminal status not in --fail-on;
     wait-batch: every member ended, none in a --fail-on status)
  1  wait, wait-batch, invoke --wait: the task or invocation (a member) ended in a --fail-on status
  2  wait, wait-batch, invoke --wait: --timeout passed before the task (the batch) ended
  3  usage or configuration error (bad id or option, missing credentials)
  4  FC API or network error (not found, access denied, unreachable)
  5  internal error (please report it)
  130  interrupted (Ctrl+C, SIGINT)
  143  terminated (SIGTERM, e.g. a cancelled CI job)"""

OUTPUT = click.Choice(["table", "json"], case_sensitive=False)


class StatusChoice(click.Choice):
    """The statuses of :class:`~...models.InvocationStatus`, read when first needed: importing the models
    when the CLI starts would load pydantic for every ``--help`` (most of its time)."""

    def __init__(self) -> None:
        super().__init__((), case_sensitive=False)

    @property
    def choices(self) -> tuple[str, ...]:
        from ..models import InvocationStatus

        return tuple(status.value for status in InvocationStatus)

    @choices.setter
    def choices(self, value: Any) -> None:
        """click sets the choices it is given (none): they are the property's."""


def _applied(func: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return _applied(func, [
        click.option("--endpoint", metavar="URL", help="FC endpoint, e.g. http://127.0.0.1:9000 "
                     "[default: FC_INVOCATION_ENDPOINT, else https://ACCOUNT.REGION.fc.aliyuncs.com]"),
        click.option("--region", metavar="REGION", help="region, e.g. cn-hangzhou [default: ALIBABA_CLOUD_REGION "
                     "or the profile's region]"),
        click.option("--account-id", metavar="ID",
                     help="Alibaba Cloud account id [default: ALIBABA_CLOUD_ACCOUNT_ID]"),
        click.option("--profile", metavar="NAME", help="credentials profile in ~/.alibabacloud/credentials.ini or "
                     "~/.aliyun/config.json; wins over credentials in the environment "
                     "[default: ALIBABA_CLOUD_PROFILE, else default]"),
        click.option("-v", "--verbose", is_flag=True,
                     help="log requests and settings (DEBUG) to stderr; never secrets"),
    ])


def described(name: str) -> Callable[[], str]:
    """The default of the wait input ``name`` as the data sources' descriptions have it (one for all of
    them), as a duration: read when a command runs (the descriptions load pydantic, which ``--help``
    does not; its ``[default: ...]`` text is checked against them by tests/test_sources.py)."""
    def default() -> str:
        from ..sources import SOURCES

        (value,) = {source.defaults[name] for source in SOURCES}
        return f"{value:g}s"

    return default


def wait_options(reads: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--timeout, --fail-on, --poll-interval, --max-poll-interval and --no-history of ``wait`` and
    ``wait-batch`` (``reads``: what the command calls one read, for the help)."""
    return lambda func: _applied(func, [
        click.option("--timeout", "timeout_text", default=described("timeout_seconds"), metavar="DURATION",
                     help="give up (exit 2) after this long  [default: 30m]"),
        click.option("--fail-on", "fail_on_text", default="Failed,Stopped,Expired,Invalid", show_default=True,
                     metavar="STATUSES", help="comma-separated terminal statuses that exit 1; '' never fails"),
        click.option("--poll-interval", "poll_text", default=described("poll_interval_seconds"), metavar="DURATION",
                     help=f"delay between {reads} during the first 10 s  [default: 1s]"),
        click.option("--max-poll-interval", "max_poll_text", metavar="DURATION",
                     help="the delay then grows (with jitter) up to 45s, sparser with a history; given, no delay "
                          "exceeds it, with a history too  [default: unset]"),
        click.option("--no-history", is_flag=True,
                     help="poll on the fixed schedule above; by default one list call reads the function's recent "
                          "run times, and polling is sparse until the likely end, dense around it"),
    ])
