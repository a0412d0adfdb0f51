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


#: The deployments of one template (docs/operations.md, "More than one region"), as the values
#: of the conditions that tell them apart. Any other condition is left undecided (both branches
#: of its ``Fn::If`` count: either may be deployed).
MODES: dict[str, dict[str, bool]] = {
    "single-region": {
        "IsSecondaryRegion": False,
        "OwnsKeys": True,
        "HasReplicaRegions": False,
        "ReplicatesKeys": False,
        "MultiRegion": False,
        "SingleRegion": True,
        "CreatesGlobalTables": False,
        "HasReplicaSigners": False,
        "HasSecretReplicators": False,
    },
    "multi-region primary": {
        "IsSecondaryRegion": False,
        "OwnsKeys": True,
        "HasReplicaRegions": True,
        "ReplicatesKeys": True,
        "MultiRegion": True,
        "SingleRegion": False,
        "CreatesGlobalTables": True,
    },
    "multi-region secondary": {
        "IsSecondaryRegion": True,
        "OwnsKeys": False,
        "HasReplicaRegions": False,
        "ReplicatesKeys": False,
        "MultiRegion": True,
        "SingleRegion": False,
        "CreatesGlobalTables": False,
        "HasReplicaSigners": False,
        "HasSecretReplicators": False,
        "CreateSigningKeysKey": False,
    },
}


def in_mode(node: Any, mode: Mapping[str, bool]) -> Any:
    """``node`` with every ``Fn::If`` on a condition ``mode`` decides resolved, ``AWS::NoValue``
    list entries dropped, and (in a ``Resources`` mapping) every resource whose ``Condition``
    ``mode`` makes false removed. Other conditions' ``Fn::If`` stay as written."""
    if isinstance(node, Mapping):
        if set(node) == {"Fn::If"} and node["Fn::If"][0] in mode:
            condition, yes, no = node["Fn::If"]
            return in_mode(yes if mode[condition] else no, mode)
        if set(node) == {"Fn::If"}:  # undecided: both branches stay, AWS::NoValue included
            condition, *branches = node["Fn::If"]
            return {"Fn::If": [condition, *(in_mode(b, mode) for b in branches)]}
        decided = {
            k: in_mode(v, mode)
            for k, v in node.items()
            if not (
                isinstance(v, Mapping) and "Type" in v and mode.get(v.get("Condition", ""), True) is False
            )
        }
        return {k: v for k, v in decided.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(node, list):
        return [v for v in (in_mode(v, mode) for v in node) if v != {"Ref": "AWS::NoValue"}]
    return node
