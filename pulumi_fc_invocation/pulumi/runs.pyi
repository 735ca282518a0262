"""Type stubs of :mod:`.runs`, generated from the descriptions (pulumi_fc_invocation/sources) by
``python -m pulumi_fc_invocation.pulumi.stubs``; do not edit."""

from datetime import datetime
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from ..sources import Run

Time = Union[str, datetime]


class RunResource(pulumi.dynamic.Resource):
    run: ClassVar[Run]
    provider_class: ClassVar[type[pulumi.dynamic.ResourceProvider]]


class AsyncTaskRun(RunResource):
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
    payload: Output[str]
    triggers: Output[Mapping[str, str]]
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
    stop_on_timeout: Output[bool]
    stop_on_delete: Output[bool]
    not_found_grace_seconds: Output[float]
    run_sequence: Output[Optional[int]]
    waited_seconds: Output[Optional[float]]
    def __init__(
        self,
        resource_name: str,
        function_name: Input[str],
        *,
        payload: Optional[Input[str]] = None,
        qualifier: Optional[Input[str]] = None,
        task_id: Optional[Input[str]] = None,
        triggers: Optional[Input[Mapping[str, str]]] = None,
        wait_for_completion: Input[bool] = True,
        timeout_seconds: Input[float] = 1800,
        fail_on_statuses: Optional[Input[Sequence[str]]] = None,
        poll_interval_seconds: Input[float] = 1.0,
        max_poll_interval_seconds: Optional[Input[float]] = None,
        secret_payloads: bool = True,
        region: Optional[Input[str]] = None,
        account_id: Optional[Input[str]] = None,
        endpoint: Optional[Input[str]] = None,
        use_duration_history: Input[bool] = True,
        stop_on_timeout: Input[bool] = False,
        stop_on_delete: Input[bool] = False,
        not_found_grace_seconds: Input[float] = 10.0,
        opts: Optional[ResourceOptions] = None,
    ) -> None: ...


class StatefulAsyncInvocationRun(RunResource):
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
    payload: Output[str]
    task_id: Output[str]
    triggers: Output[Mapping[str, str]]
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
    stop_on_timeout: Output[bool]
    stop_on_delete: Output[bool]
    run_sequence: Output[Optional[int]]
    waited_seconds: Output[Optional[float]]
    def __init__(
        self,
        resource_name: str,
        service_name: Input[str],
        function_name: Input[str],
        *,
        payload: Optional[Input[str]] = None,
        qualifier: Optional[Input[str]] = None,
        task_id: Optional[Input[str]] = None,
        triggers: Optional[Input[Mapping[str, str]]] = None,
        wait_for_completion: Input[bool] = True,
        timeout_seconds: Input[float] = 1800,
        fail_on_statuses: Optional[Input[Sequence[str]]] = None,
        poll_interval_seconds: Input[float] = 1.0,
        max_poll_interval_seconds: Optional[Input[float]] = None,
        secret_payloads: bool = True,
        region: Optional[Input[str]] = None,
        account_id: Optional[Input[str]] = None,
        endpoint: Optional[Input[str]] = None,
        use_duration_history: Input[bool] = True,
        stop_on_timeout: Input[bool] = False,
        stop_on_delete: Input[bool] = False,
        opts: Optional[ResourceOptions] = None,
    ) -> None: ...


def __getattr__(name: str) -> Any: ...  # the start resources and the builders behind the classes
