"""What template.yaml says about each function, and loading a function's handler the way Lambda would.

The local harness and the tests read the deployed template rather than a copy of it, so a
function's code directory, handler, environment, routes and queue are defined in one place.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pampax.errors import InvalidArgument

TEMPLATE = "template.yaml"

Handler = Callable[[dict, Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Serverless::Function`` as the harness needs it."""

    logical_id: str
    code_dir: Path
    handler: str  # "module.function", relative to code_dir
    environment: dict[str, str]
    routes: tuple[tuple[str, str], ...]  # (METHOD, /path) of its Api events
    queue_batch_size: int | None  # BatchSize of its SQS event; None without one


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (``!Ref X``, ``!GetAtt A.B``, ``!Sub ...``) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def find_template(start: Path | None = None) -> Path:
    """Return the nearest template.yaml at or above ``start`` (the working directory), else this checkout's.

    Raises ``InvalidArgument`` when there is none.
    """
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents, Path(__file__).resolve().parents[2]):
        if (directory / TEMPLATE).is_file():
            return directory / TEMPLATE
    raise InvalidArgument(f"no {TEMPLATE} in {here} or above: pass --template")


def load_template(path: Path) -> dict:
    """Return a SAM template as data, short tags in their long forms. Raises ``InvalidArgument`` when unreadable."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidArgument(f"cannot read {path}: {exc}") from exc


def read_template(path: Path) -> dict[str, FunctionSpec]:
    """Return the template's functions by logical id, environments merged with ``Globals``.

    A variable whose value is a parameter ``!Ref`` gets the parameter's default; one that names a
    resource (``!Ref ArtifactBucket``) cannot be known locally and is left out, for the caller's
    environment to supply. Raises ``InvalidArgument`` for an unreadable template.
    """
    template = load_template(path)
    defaults = {name: str(p["Default"]) for name, p in template.get("Parameters", {}).items() if "Default" in p}
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    functions = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        own = props.get("Environment", {}).get("Variables", {})
        events = props.get("Events", {}).values()
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=path.parent / props["CodeUri"],
            handler=props["Handler"],
            environment={k: v for k, raw in {**shared, **own}.items() if (v := _resolve(raw, defaults)) is not None},
            routes=tuple((e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events if e["Type"] == "Api"),
            queue_batch_size=next((e["Properties"].get("BatchSize", 10) for e in events if e["Type"] == "SQS"), None),
        )
    return functions


def _resolve(value: Any, defaults: dict[str, str]) -> str | None:
    if isinstance(value, dict):
        return defaults.get(value.get("Ref", ""))
    return str(value)


def pick_function(functions: dict[str, FunctionSpec], name: str) -> FunctionSpec:
    """Return the function named by logical id (``SearchFunction``) or code directory (``search``).

    Raises ``InvalidArgument`` listing the choices.
    """
    for spec in functions.values():
        if name == spec.logical_id or name.lower() == spec.code_dir.name.lower():
            return spec
    raise InvalidArgument(f"no function {name!r} in the template; choose from {', '.join(sorted(functions))}")


def import_handler(spec: FunctionSpec, module_name: str | None = None) -> Handler:
    """Return the handler function of ``spec``, its module loaded from the file under a unique name.

    Every handler module is ``app.py``, so each is imported by path as ``module_name`` (default
    ``pampax_fn_<LogicalId>``) rather than by its clashing module name.
    """
    module_file, function = spec.handler.rsplit(".", 1)
    name = module_name or f"pampax_fn_{spec.logical_id}"
    loader = importlib.util.spec_from_file_location(name, spec.code_dir / f"{module_file}.py")
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module
    loader.loader.exec_module(module)
    return getattr(module, function)
