"""Type stubs of :mod:`.resources`, generated from the descriptions (pulumi_fc_invocation/sources) by
``python -m pulumi_fc_invocation.pulumi.stubs``; do not edit."""

from datetime import datetime
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from ..sources import DataSource

Time = Union[str, datetime]


class DataSourceResource(pulumi.dynamic.Resource):
    source: ClassVar[DataSource]
    provider_class: ClassVar[type[pulumi.dynamic.ResourceProvider]]


class AsyncTask(DataSourceResource):
    function_name: Output[str]
    qualifier: Output[Optional[str]]
    task_id: Output[str]
    function_arn: Output[str]
    request_id: Output[str]
    status: Output[str]
    destination_status: Output[str]
    task_error_message: Output[str]
    task_payload: Output[Optional[str]]
    return_payload: Output[Optional[str]]
    already_retried_times: Output[int]
    started_time: Output[Optional[str]]
    end_time: Output[Optional[str]]
    duration_ms: Output[Optional[int]]
    instance_id: Output[str]
    events: Output[Sequence[Mapping[str, Any]]]
    is_terminal: Output[bool]
    wait_for_completion: Output[bool]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[Sequence[str]]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    not_found_grace_seconds: Output[float]
    waited_seconds: Output[Optional[float]]
    def __init__(
        self,
        resource_name: str,
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
        opts: Optional[ResourceOptions] = None,
    ) -> None: ...
    @classmethod
    def get(cls, resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, **kwargs: Any) -> AsyncTask: ...


class AsyncTasks(DataSourceResource):
    function_name: Output[str]
    qualifier: Output[Optional[str]]
    task_id_prefix: Output[Optional[str]]
    statuses: Output[Sequence[str]]
    started_after: Output[Optional[str]]
    started_before: Output[Optional[str]]
    limit: Output[Optional[int]]
    include_payloads: Output[bool]
    wait_for_completion: Output[bool]
    expected_count: Output[Optional[int]]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[Sequence[str]]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    ids: Output[Sequence[str]]
    tasks: Output[Sequence[Mapping[str, Any]]]
    counts: Output[Mapping[str, int]]
    total: Output[int]
    all_terminal: Output[bool]
    all_succeeded: Output[bool]
    waited_seconds: Output[Optional[float]]
    def __init__(
        self,
        resource_name: str,
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
        opts: Optional[ResourceOptions] = None,
    ) -> None: ...
    @classmethod
    def get(cls, resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, **kwargs: Any) -> AsyncTasks: ...


class StatefulAsyncInvocation(DataSourceResource):
    service_name: Output[str]
    function_name: Output[str]
    qualifier: Output[Optional[str]]
    invocation_id: Output[str]
    request_id: Output[str]
    status: Output[str]
    destination_status: Output[str]
    invocation_error_message: Output[str]
    invocation_payload: Output[Optional[str]]
    return_payload: Output[Optional[str]]
    already_retried_times: Output[int]
    started_time: Output[Optional[str]]
    end_time: Output[Optional[str]]
    duration_ms: Output[Optional[int]]
    instance_id: Output[str]
    events: Output[Sequence[Mapping[str, Any]]]
    is_terminal: Output[bool]
    wait_for_completion: Output[bool]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[Sequence[str]]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    waited_seconds: Output[Optional[float]]
    def __init__(
        self,
        resource_name: str,
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
        opts: Optional[ResourceOptions] = None,
    ) -> None: ...
    @classmethod
    def get(cls, resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, **kwargs: Any) -> StatefulAsyncInvocation: ...


class StatefulAsyncInvocations(DataSourceResource):
    service_name: Output[str]
    function_name: Output[str]
    qualifier: Output[Optional[str]]
    invocation_id_prefix: Output[Optional[str]]
    statuses: Output[Sequence[str]]
    started_after: Output[Optional[str]]
    started_before: Output[Optional[str]]
    limit: Output[Optional[int]]
    include_payloads: Output[bool]
    wait_for_completion: Output[bool]
    expected_count: Output[Optional[int]]
    timeout_seconds: Output[float]
    fail_on_statuses: Output[Sequence[str]]
    poll_interval_seconds: Output[float]
    max_poll_interval_seconds: Output[Optional[float]]
    secret_payloads: Output[bool]
    region: Output[Optional[str]]
    account_id: Output[Optional[str]]
    endpoint: Output[Optional[str]]
    use_duration_history: Output[bool]
    ids: Output[Sequence[str]]
    invocations: Output[Sequence[Mapping[str, Any]]]
    counts: Output[Mapping[str, int]]
    total: Output[int]
    all_terminal: Output[bool]
    all_succeeded: Output[bool]
    waited_seconds: Output[Optional[float]]
    def __init__(
        self,
        resource_name: str,
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
        opts: Optional[ResourceOptions] = None,
    ) -> None: ...
    @classmethod
    def get(cls, resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, **kwargs: Any) -> StatefulAsyncInvocations: ...


def __getattr__(name: str) -> Any: ...  # the builders behind the classes
