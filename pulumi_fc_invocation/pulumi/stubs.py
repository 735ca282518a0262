"""Type stubs of the data sources, function forms and runs (``resources.pyi``, ``functions.pyi``, ``runs.pyi``),
made from the descriptions: the classes and functions get their signatures at run time (:mod:`.signatures`), so a type
checker or an editor reads them here. tests/test_sources.py fails when a committed stub differs.

    python -m pulumi_fc_invocation.pulumi.stubs
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..sources import RUNS, SOURCES, DataSource, Field, Member, Run
from .signatures import function_signature, resource_signature, type_text

__all__ = ["RESULTS", "resources_stub", "functions_stub", "runs_stub", "stubs", "main"]

RESULTS = {source.name: f"Get{source.name}Result" for source in SOURCES}  # the function forms' result classes
_HEAD = '''"""Type stubs of :mod:`.{module}`, generated from the descriptions (pulumi_fc_invocation/sources) by
``python -m pulumi_fc_invocation.pulumi.stubs``; do not edit."""

from datetime import datetime
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import pulumi
import pulumi.dynamic
from pulumi import Input, Output, ResourceOptions

from ..sources import DataSource

Time = Union[str, datetime]
'''


def _parameters(signature: inspect.Signature, indent: str = "") -> str:
    """The parameters, one a line (``indent`` is the def's)."""
    return "\n" + "".join(f"{indent}    {text},\n" for text in _parameter_list(signature)) + indent


def _parameter_list(signature: inspect.Signature) -> list[str]:
    out, star = [], False
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        text = param.name if param.annotation is inspect.Parameter.empty else f"{param.name}: {param.annotation}"
        # A required name (None in the run-time signature, which ``get`` passes by keyword) has no default
        # here: a checker refuses ``AsyncTask("m")``, as the run time does.
        required = param.default is None and not str(param.annotation).startswith("Optional")
        if param.default is not inspect.Parameter.empty and not required:
            text += f" = {param.default!r}"
        out.append(text)
    return out


def _resource(source: Any, base: str = "DataSourceResource") -> list[str]:
    """A resource class (a data source's or a run's): its outputs and its constructor."""
    lines = ["", "", f"class {source.name}({base}):"]
    for field in source.outputs:
        text = type_text(field.type)
        lines.append(f"    {field.name}: Output[{f'Optional[{text}]' if field.nullable else text}]")
    lines.append(f"    def __init__({_parameters(resource_signature(source), '    ')}) -> None: ...")
    if isinstance(source, Run):
        return lines
    lines += ["    @classmethod",
              f"    def get(cls, resource_name: str, id: Input[str], opts: Optional[ResourceOptions] = None, "
              f"**kwargs: Any) -> {source.name}: ..."]
    return lines


def resources_stub() -> str:
    lines = [_HEAD.format(module="resources"), "",
             "class DataSourceResource(pulumi.dynamic.Resource):",
             "    source: ClassVar[DataSource]",
             "    provider_class: ClassVar[type[pulumi.dynamic.ResourceProvider]]"]
    for source in SOURCES:
        lines += _resource(source)
    lines += ["", "", "def __getattr__(name: str) -> Any: ...  # the builders behind the classes"]
    return "\n".join(lines) + "\n"


def runs_stub() -> str:
    lines = [_HEAD.format(module="runs").replace("from ..sources import DataSource", "from ..sources import Run"),
             "", "class RunResource(pulumi.dynamic.Resource):",
             "    run: ClassVar[Run]",
             "    provider_class: ClassVar[type[pulumi.dynamic.ResourceProvider]]"]
    for run in RUNS:
        lines += _resource(run, "RunResource")
    lines += ["", "", "def __getattr__(name: str) -> Any: ...  # the start resources and the builders behind the classes"]
    return "\n".join(lines) + "\n"


def _attribute(source: DataSource, field: Field) -> str:
    text = type_text(field.type)
    text = f"Optional[{text}]" if field.nullable else text
    # Payloads (with secret_payloads), and a batch's member lists when they are secret, are secret Outputs.
    may_be_secret = field.secret or (source.batch and field.name in ("ids", source.items_key))
    return f"Union[{text}, Output[{text}]]" if may_be_secret else text


def _argument(source: DataSource, field: Field) -> str:
    """What a result's constructor takes for ``field``: its attribute's type, or None (the SDK passes every
    output, None for one not set)."""
    text = _attribute(source, field)
    return text if text.startswith("Optional[") else f"Optional[{text}]"


def functions_stub() -> str:
    lines = [_HEAD.format(module="functions")]
    for source in SOURCES:
        name = RESULTS[source.name]
        lines += ["", "", "@pulumi.output_type", f"class {name}:", f"    source: ClassVar[DataSource]",
                  "    def __init__(self, *, " + ", ".join(f"{f.name}: {_argument(source, f)} = None"
                                                      for f in source.function_outputs)
                  + ") -> None: ..."]
        for field in source.function_outputs:
            lines += ["    @property", f"    def {field.name}(self) -> {_attribute(source, field)}: ..."]
    for source in SOURCES:
        result = RESULTS[source.name]
        for output in (False, True):
            signature = function_signature(source, output=output, result=result)
            lines += ["", "", f"def {source.function}{'_output' if output else ''}({_parameters(signature)}) -> "
                              f"{signature.return_annotation}: ..."]
    lines += ["", "", "def __getattr__(name: str) -> Any: ...  # the generic forms behind the functions"]
    return "\n".join(lines) + "\n"


def stubs() -> dict[str, str]:
    """The stub files by name, in this package."""
    return {"resources.pyi": resources_stub(), "functions.pyi": functions_stub(), "runs.pyi": runs_stub()}


def main() -> int:
    here = Path(__file__).resolve().parent
    for name, text in stubs().items():
        (here / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {here / name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
