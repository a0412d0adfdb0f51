"""Reading ``template.yaml`` for the structure tests: CloudFormation short tags become long form.

``!Ref X`` → ``{"Ref": "X"}``, ``!GetAtt A.B`` → ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub s`` →
``{"Fn::Sub": s}``. Nothing is resolved: the tests assert on what the template *says*.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
#: A parsed template or a part of one.
Doc = dict[str, Any]


class CfnLoader(yaml.SafeLoader):
    """Safe YAML loader that understands every ``!Tag`` CloudFormation defines."""


def _tagged(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _tagged)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader


def ref_target(value: Any) -> str | None:
    """The logical id a ``Ref``/``GetAtt`` designates (``X.Alias`` counts as ``X``), else ``None``."""
    if isinstance(value, Mapping):
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"].split(".", 1)[0]
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return None
    return None


def walk(value: Any) -> Iterator[Any]:
    """Every node of a parsed document, depth first."""
    yield value
    if isinstance(value, Mapping):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
