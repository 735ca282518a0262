"""The Python signatures of the data sources and their function forms, made from the descriptions
(:mod:`..sources`): the resource constructors, ``get_*`` (plain values), ``get_*_output`` (Inputs) and
the annotations of the outputs. ``inspect.signature`` and ``help()`` show them; nothing here runs a gate.
"""

import inspect
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..sources import DataSource, Field, Member

__all__ = ["type_text", "output_annotation", "resource_signature", "function_signature", "annotations", "bind"]

_P = inspect.Parameter


def type_text(tp: Any) -> str:
    """A field's type as annotation text, for the run-time signatures and the stubs alike: ``str``,
    ``Time`` (text or a datetime), ``Sequence[str]``; a member or a model (an event) is a map of its fields."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        return "Time" if set(typing.get_args(tp)) == {str, datetime} else repr(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return f"Sequence[{type_text(item)}]"
    if origin in (dict, Mapping):
        key, value = typing.get_args(tp)
        return f"Mapping[{type_text(key)}, {type_text(value)}]"
    if isinstance(tp, Member) or hasattr(tp, "model_fields"):
        return "Mapping[str, Any]"
    name: str = tp.__name__
    return name


def output_annotation(field: Field) -> str:
    text = type_text(field.type)
    return f"Output[Optional[{text}]]" if field.nullable else f"Output[{text}]"


def _argument(field: Field, *, inputs: bool, required_default: Any) -> inspect.Parameter:
    text = type_text(field.accepts or field.type)
    if not field.plain and inputs:
        text = f"Input[{text}]"
    if field.required:
        default = required_default
    else:
        default = field.default
        if default is None:
            text = f"Optional[{text}]"
    return _P(field.name, _P.POSITIONAL_OR_KEYWORD, default=default, annotation=text)


def _arguments(source: DataSource, *, inputs: bool, required_default: Any) -> list[inspect.Parameter]:
    params = []
    for i, field in enumerate(source.inputs):
        param = _argument(field, inputs=inputs, required_default=required_default)
        params.append(param if i < source.positional else param.replace(kind=_P.KEYWORD_ONLY))
    return params


def resource_signature(source: DataSource) -> inspect.Signature:
    """``(self, resource_name, <names>, *, <settings>, opts=None)``; the names default to None so that
    ``get`` can pass them as keywords (the read checks them)."""
    return inspect.Signature([
        _P("self", _P.POSITIONAL_OR_KEYWORD), _P("resource_name", _P.POSITIONAL_OR_KEYWORD, annotation="str"),
        *_arguments(source, inputs=True, required_default=None),
        _P("opts", _P.KEYWORD_ONLY, default=None, annotation="Optional[ResourceOptions]"),
    ], return_annotation="None")


def function_signature(source: DataSource, *, output: bool, result: str) -> inspect.Signature:
    """``get_x(<names>, *, <settings>, opts=None)``: plain values; the ``_output`` form takes Inputs."""
    return inspect.Signature([
        *_arguments(source, inputs=output, required_default=_P.empty),
        _P("opts", _P.KEYWORD_ONLY, default=None, annotation="Optional[pulumi.InvokeOptions]"),
    ], return_annotation=f"Output[{result}]" if output else result)


def annotations(signature: inspect.Signature) -> dict[str, Any]:
    """``__annotations__`` for a function given ``signature`` (``typing.get_type_hints`` reads these; the
    names they use must be those of the function's module)."""
    out = {name: p.annotation for name, p in signature.parameters.items() if p.annotation is not _P.empty}
    if signature.return_annotation is not inspect.Signature.empty:
        out["return"] = signature.return_annotation
    return out


def bind(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments by name, defaults applied (a missing or unknown one is Python's TypeError)."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)
