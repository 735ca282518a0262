"""Type stubs of :mod:`.functions`, generated from the descriptions (pulumi_fc_invocation/sources) by
``python -m pulumi_fc_invocation.pulumi.stubs``; do not edit."""

from datetime import datetime
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from ..sources import DataSource

Time = Union[str, datetime]



@pulumi.output_type
class GetAsyncTaskResult:
    source: ClassVar[DataSource]
    def __init__(self, *, id: Optional[str] = None, function_name: Optional[str] = None, qualifier: Optional[str] = None, task_id: Optional[str] = None, function_arn: Optional[str] = None, request_id: Optional[str] = None, status: Optional[str] = None, destination_status: Optional[str] = None, task_error_message: Optional[str] = None, task_payload: Optional[Union[Optional[str], Output[Optional[str]]]] = None, return_payload: Optional[Union[Optional[str], Output[Optional[str]]]] = None, already_retried_times: Optional[int] = None, started_time: Optional[str] = None, end_time: Optional[str] = None, duration_ms: Optional[int] = None, instance_id: Optional[str] = None, events: Optional[Sequence[Mapping[str, Any]]] = None, is_terminal: Optional[bool] = None) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def function_name(self) -> str: ...
    @property
    def qualifier(self) -> Optional[str]: ...
    @property
    def task_id(self) -> str: ...
    @property
    def function_arn(self) -> str: ...
    @property
    def request_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def destination_status(self) -> str: ...
    @property
    def task_error_message(self) -> str: ...
    @property
    def task_payload(self) -> Union[Optional[str], Output[Optional[str]]]: ...
    @property
    def return_payload(self) -> Union[Optional[str], Output[Optional[str]]]: ...
    @property
    def already_retried_times(self) -> int: ...
    @property
    def started_time(self) -> Optional[str]: ...
    @property
    def end_time(self) -> Optional[str]: ...
    @property
    def duration_ms(self) -> Optional[int]: ...
    @property
    def instance_id(self) -> str: ...
    @property
    def events(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def is_terminal(self) -> bool: ...


@pulumi.output_type
class GetAsyncTasksResult:
    source: ClassVar[DataSource]
    def __init__(self, *, id: Optional[str] = None, function_name: Optional[str] = None, qualifier: Optional[str] = None, task_id_prefix: Optional[str] = None, statuses: Optional[Sequence[str]] = None, started_after: Optional[str] = None, started_before: Optional[str] = None, limit: Optional[int] = None, include_payloads: Optional[bool] = None, wait_for_completion: Optional[bool] = None, expected_count: Optional[int] = None, timeout_seconds: Optional[float] = None, fail_on_statuses: Optional[Sequence[str]] = None, poll_interval_seconds: Optional[float] = None, max_poll_interval_seconds: Optional[float] = None, secret_payloads: Optional[bool] = None, region: Optional[str] = None, account_id: Optional[str] = None, endpoint: Optional[str] = None, use_duration_history: Optional[bool] = None, ids: Optional[Union[Sequence[str], Output[Sequence[str]]]] = None, tasks: Optional[Union[Sequence[Mapping[str, Any]], Output[Sequence[Mapping[str, Any]]]]] = None, counts: Optional[Mapping[str, int]] = None, total: Optional[int] = None, all_terminal: Optional[bool] = None, all_succeeded: Optional[bool] = None, waited_seconds: Optional[float] = None) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def function_name(self) -> str: ...
    @property
    def qualifier(self) -> Optional[str]: ...
    @property
    def task_id_prefix(self) -> Optional[str]: ...
    @property
    def statuses(self) -> Sequence[str]: ...
    @property
    def started_after(self) -> Optional[str]: ...
    @property
    def started_before(self) -> Optional[str]: ...
    @property
    def limit(self) -> Optional[int]: ...
    @property
    def include_payloads(self) -> bool: ...
    @property
    def wait_for_completion(self) -> bool: ...
    @property
    def expected_count(self) -> Optional[int]: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def fail_on_statuses(self) -> Sequence[str]: ...
    @property
    def poll_interval_seconds(self) -> float: ...
    @property
    def max_poll_interval_seconds(self) -> Optional[float]: ...
    @property
    def secret_payloads(self) -> bool: ...
    @property
    def region(self) -> Optional[str]: ...
    @property
    def account_id(self) -> Optional[str]: ...
    @property
    def endpoint(self) -> Optional[str]: ...
    @property
    def use_duration_history(self) -> bool: ...
    @property
    def ids(self) -> Union[Sequence[str], Output[Sequence[str]]]: ...
    @property
    def tasks(self) -> Union[Sequence[Mapping[str, Any]], Output[Sequence[Mapping[str, Any]]]]: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def total(self) -> int: ...
    @property
    def all_terminal(self) -> bool: ...
    @property
    def all_succeeded(self) -> bool: ...
    @property
    def waited_seconds(self) -> Optional[float]: ...


@pulumi.output_type
class GetStatefulAsyncInvocationResult:
    source: ClassVar[DataSource]
    def __init__(self, *, id: Optional[str] = None, service_name: Optional[str] = None, function_name: Optional[str] = None, qualifier: Optional[str] = None, invocation_id: Optional[str] = None, request_id: Optional[str] = None, status: Optional[str] = None, destination_status: Optional[str] = None, invocation_error_message: Optional[str] = None, invocation_payload: Optional[Union[Optional[str], Output[Optional[str]]]] = None, return_payload: Optional[Union[Optional[str], Output[Optional[str]]]] = None, already_retried_times: Optional[int] = None, started_time: Optional[str] = None, end_time: Optional[str] = None, duration_ms: Optional[int] = None, instance_id: Optional[str] = None, events: Optional[Sequence[Mapping[str, Any]]] = None, is_terminal: Optional[bool] = None) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    @property
    def function_name(self) -> str: ...
    @property
    def qualifier(self) -> Optional[str]: ...
    @property
    def invocation_id(self) -> str: ...
    @property
    def request_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def destination_status(self) -> str: ...
    @property
    def invocation_error_message(self) -> str: ...
    @property
    def invocation_payload(self) -> Union[Optional[str], Output[Optional[str]]]: ...
    @property
    def return_payload(self) -> Union[Optional[str], Output[Optional[str]]]: ...
    @property
    def already_retried_times(self) -> int: ...
    @property
    def started_time(self) -> Optional[str]: ...
    @property
    def end_time(self) -> Optional[str]: ...
    @property
    def duration_ms(self) -> Optional[int]: ...
    @property
    def instance_id(self) -> str: ...
    @property
    def events(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def is_terminal(self) -> bool: ...


@pulumi.output_type
class GetStatefulAsyncInvocationsResult:
    source: ClassVar[DataSource]
    def __init__(self, *, id: Optional[str] = None, service_name: Optional[str] = None, function_name: Optional[str] = None, qualifier: Optional[str] = None, invocation_id_prefix: Optional[str] = None, statuses: Optional[Sequence[str]] = None, started_after: Optional[str] = None, started_before: Optional[str] = None, limit: Optional[int] = None, include_payloads: Optional[bool] = None, wait_for_completion: Optional[bool] = None, expected_count: Optional[int] = None, timeout_seconds: Optional[float] = None, fail_on_statuses: Optional[Sequence[str]] = None, poll_interval_seconds: Optional[float] = None, max_poll_interval_seconds: Optional[float] = None, secret_payloads: Optional[bool] = None, region: Optional[str] = None, account_id: Optional[str] = None, endpoint: Optional[str] = None, use_duration_history: Optional[bool] = None, ids: Optional[Union[Sequence[str], Output[Sequence[str]]]] = None, invocations: Optional[Union[Sequence[Mapping[str, Any]], Output[Sequence[Mapping[str, Any]]]]] = None, counts: Optional[Mapping[str, int]] = None, total: Optional[int] = None, all_terminal: Optional[bool] = None, all_succeeded: Optional[bool] = None, waited_seconds: Optional[float] = None) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    @property
    def function_name(self) -> str: ...
    @property
    def qualifier(self) -> Optional[str]: ...
    @property
    def invocation_id_prefix(self) -> Optional[str]: ...
    @property
    def statuses(self) -> Sequence[str]: ...
    @property
    def started_after(self) -> Optional[str]: ...
    @property
    def started_before(self) -> Optional[str]: ...
    @property
    def limit(self) -> Optional[int]: ...
    @property
    def include_payloads(self) -> bool: ...
    @property
    def wait_for_completion(self) -> bool: ...
    @property
    def expected_count(self) -> Optional[int]: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def fail_on_statuses(self) -> Sequence[str]: ...
    @property
    def poll_interval_seconds(self) -> float: ...
    @property
    def max_poll_interval_seconds(self) -> Optional[float]: ...
    @property
    def secret_payloads(self) -> bool: ...
    @property
    def region(self) -> Optional[str]: ...
    @property
    def account_id(self) -> Optional[str]: ...
    @property
    def endpoint(self) -> Optional[str]: ...
    @property
    def use_duration_history(self) -> bool: ...
    @property
    def ids(self) -> Union[Sequence[str], Output[Sequence[str]]]: ...
    @property
    def invocations(self) -> Union[Sequence[Mapping[str, Any]], Output[Sequence[Mapping[str, Any]]]]: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def total(self) -> int: ...
    @property
    def all_terminal(self) -> bool: ...
    @property
    def all_succeeded(self) -> bool: ...
    @property
    def waited_seconds(self) -> Optional[float]: ...


def get_async_task(
    function_name: str,
    task_id: str,
    qualifier: Optional[str] = None,
    *,
    wait_for_completion: bool = False,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
    not_found_grace_seconds: float = 10.0,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> GetAsyncTaskResult: ...


def get_async_task_output(
    function_name: Input[str],
    task_id: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    wait_for_completion: Input[bool] = False,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
    not_found_grace_seconds: Input[float] = 10.0,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> Output[GetAsyncTaskResult]: ...


def get_async_tasks(
    function_name: str,
    qualifier: Optional[str] = None,
    *,
    task_id_prefix: Optional[str] = None,
    statuses: Optional[Sequence[str]] = None,
    started_after: Optional[Time] = None,
    started_before: Optional[Time] = None,
    limit: Optional[int] = None,
    include_payloads: bool = False,
    wait_for_completion: bool = False,
    expected_count: Optional[int] = None,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> GetAsyncTasksResult: ...


def get_async_tasks_output(
    function_name: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    task_id_prefix: Optional[Input[str]] = None,
    statuses: Optional[Input[Sequence[str]]] = None,
    started_after: Optional[Input[Time]] = None,
    started_before: Optional[Input[Time]] = None,
    limit: Optional[Input[int]] = None,
    include_payloads: Input[bool] = False,
    wait_for_completion: Input[bool] = False,
    expected_count: Optional[Input[int]] = None,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> Output[GetAsyncTasksResult]: ...


def get_stateful_async_invocation(
    service_name: str,
    function_name: str,
    invocation_id: str,
    qualifier: Optional[str] = None,
    *,
    wait_for_completion: bool = False,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> GetStatefulAsyncInvocationResult: ...


def get_stateful_async_invocation_output(
    service_name: Input[str],
    function_name: Input[str],
    invocation_id: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    wait_for_completion: Input[bool] = False,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> Output[GetStatefulAsyncInvocationResult]: ...


def get_stateful_async_invocations(
    service_name: str,
    function_name: str,
    qualifier: Optional[str] = None,
    *,
    invocation_id_prefix: Optional[str] = None,
    statuses: Optional[Sequence[str]] = None,
    started_after: Optional[Time] = None,
    started_before: Optional[Time] = None,
    limit: Optional[int] = None,
    include_payloads: bool = False,
    wait_for_completion: bool = False,
    expected_count: Optional[int] = None,
    timeout_seconds: float = 1800,
    fail_on_statuses: Optional[Sequence[str]] = None,
    poll_interval_seconds: float = 1.0,
    max_poll_interval_seconds: Optional[float] = None,
    secret_payloads: bool = True,
    region: Optional[str] = None,
    account_id: Optional[str] = None,
    endpoint: Optional[str] = None,
    use_duration_history: bool = True,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> GetStatefulAsyncInvocationsResult: ...


def get_stateful_async_invocations_output(
    service_name: Input[str],
    function_name: Input[str],
    qualifier: Optional[Input[str]] = None,
    *,
    invocation_id_prefix: Optional[Input[str]] = None,
    statuses: Optional[Input[Sequence[str]]] = None,
    started_after: Optional[Input[Time]] = None,
    started_before: Optional[Input[Time]] = None,
    limit: Optional[Input[int]] = None,
    include_payloads: Input[bool] = False,
    wait_for_completion: Input[bool] = False,
    expected_count: Optional[Input[int]] = None,
    timeout_seconds: Input[float] = 1800,
    fail_on_statuses: Optional[Input[Sequence[str]]] = None,
    poll_interval_seconds: Input[float] = 1.0,
    max_poll_interval_seconds: Optional[Input[float]] = None,
    secret_payloads: bool = True,
    region: Optional[Input[str]] = None,
    account_id: Optional[Input[str]] = None,
    endpoint: Optional[Input[str]] = None,
    use_duration_history: Input[bool] = True,
    opts: Optional[pulumi.InvokeOptions] = None,
) -> Output[GetStatefulAsyncInvocationsResult]: ...


def __getattr__(name: str) -> Any: ...  # the generic forms behind the functions
