"""Reading a CloudFormation/SAM template and resolving its intrinsic functions locally.

The local stack must not hard-code anything ``template.yaml`` declares, so it reads the template the
way CloudFormation would: a YAML loader that understands the short tags (``!Ref``, ``!Sub``,
``!GetAtt`` ...) and a :class:`Resolver` that evaluates ``Ref``/``Fn::*`` against local physical
names. Only what a template for this kind of service uses is supported; anything else raises
:class:`TemplateError` naming the construct, so a gap is loud rather than silently wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["NO_VALUE", "Resolver", "StackIdentity", "Template", "TemplateError", "load_template"]


class TemplateError(Exception):
    """The template cannot be read or uses something the local stack does not emulate."""


class _NoValue:
    """``AWS::NoValue``: removes the enclosing property or list item."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

# ----------------------------------------------------------------------------- YAML short tags
_SCALAR_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
}
_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "ToJsonString",
    "Length",
)


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that turns ``!Tag value`` into CloudFormation's long form ``{"Fn::Tag": value}``."""


def _construct(node: yaml.Node, loader: _CfnLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _add_tag(tag: str, key: str) -> None:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        value = _construct(node, loader)
        if key == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {key: value}

    _CfnLoader.add_constructor(f"!{tag}", construct)


for _tag, _key in _SCALAR_TAGS.items():
    _add_tag(_tag, _key)
for _tag in _FN_TAGS:
    _add_tag(_tag, f"Fn::{_tag}")


@dataclass(frozen=True)
class Template:
    """A parsed template and the directory its relative paths (``CodeUri``...) are relative to."""

    doc: Mapping[str, Any]
    path: Path

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        return self.doc.get("Resources") or {}

    @property
    def parameters(self) -> Mapping[str, Mapping[str, Any]]:
        return self.doc.get("Parameters") or {}

    @property
    def globals(self) -> Mapping[str, Any]:
        return self.doc.get("Globals") or {}

    def of_type(self, *types: str) -> dict[str, Mapping[str, Any]]:
        """Resources whose ``Type`` is one of ``types``, by logical id (template order)."""
        return {lid: res for lid, res in self.resources.items() if res.get("Type") in types}


def load_template(path: str | Path) -> Template:
    """Parse ``path`` (YAML or JSON) with CloudFormation short tags.

    :raises TemplateError: unreadable file or not a template.
    """
    p = Path(path).resolve()
    try:
        doc = yaml.load(p.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read template {p}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{p} is not a CloudFormation template (no Resources)")
    return Template(doc=doc, path=p)


# ----------------------------------------------------------------------------- resolution
@dataclass(frozen=True)
class StackIdentity:
    """The pseudo parameters of the local "deployment"."""

    stack_name: str = "jwt-auth-local"
    region: str = "us-east-1"
    account_id: str = "123456789012"

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameter values and local physical ids.

    :param refs: logical id -> value of ``Ref`` (physical name or ARN), filled in as resources
        are created (a secret's ARN is only known once moto made it).
    :param get_att: ``(logical id, attribute) -> value`` for ``Fn::GetAtt``.
    """

    template: Template
    parameters: Mapping[str, str]
    identity: StackIdentity = field(default_factory=StackIdentity)
    refs: dict[str, str] = field(default_factory=dict)
    get_att: Callable[[str, str], str] | None = None
    _conditions: dict[str, bool] = field(default_factory=dict)

    # -- public ---------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic evaluated; ``AWS::NoValue`` entries removed.

        :raises TemplateError: unknown reference or unsupported function.
        """
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref":
                    return self._ref(arg)
                if key.startswith("Fn::") or key == "Condition":
                    return self._fn(key, arg)
            out = {}
            for k, v in value.items():
                r = self.resolve(v)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        return value

    def resolve_str(self, value: Any) -> str:
        """Resolve to a string the way CloudFormation stringifies scalars (``true``, ``300``)."""
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, int | float | str):
            return str(resolved)
        raise TemplateError(f"expected a scalar, got {type(resolved).__name__}")

    def condition(self, name: str) -> bool:
        """Evaluate a named condition of the ``Conditions`` section (memoised)."""
        if name not in self._conditions:
            conditions = self.template.doc.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self._truth(conditions[name]))
        return self._conditions[name]

    # -- internals ------------------------------------------------------------------------
    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            name = self.resolve(name)
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self.identity.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NotificationARNs":
            return []
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.template.resources:
            raise TemplateError(f"resource {name!r} is referenced before it exists locally")
        raise TemplateError(f"unresolved reference {name!r}")

    def _truth(self, value: Any) -> bool:
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return resolved
        if isinstance(resolved, str):
            return resolved.lower() == "true"
        raise TemplateError(f"condition did not evaluate to a boolean: {resolved!r}")

    def _fn(self, key: str, arg: Any) -> Any:
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            lid, attr = self.resolve(parts[0]), self.resolve(parts[1])
            if lid not in self.template.resources and lid not in self.refs:
                raise TemplateError(f"Fn::GetAtt of unknown resource {lid!r}")
            if self.get_att is None:
                raise TemplateError(f"Fn::GetAtt {lid}.{attr} cannot be resolved yet")
            return self.get_att(lid, attr)
        if key == "Fn::Join":
            sep, items = arg
            return str(self.resolve(sep)).join(str(i) for i in self.resolve(items))
        if key == "Fn::If":
            name, then, otherwise = arg
            return self.resolve(then if self.condition(name) else otherwise)
        if key == "Fn::Equals":
            a, b = (self.resolve(v) for v in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(v) for v in arg)
        if key == "Fn::Or":
            return any(self._truth(v) for v in arg)
        if key == "Fn::Select":
            index, items = self.resolve(arg[0]), self.resolve(arg[1])
            return items[int(index)]
        if key == "Fn::Split":
            sep, text = self.resolve(arg[0]), self.resolve(arg[1])
            return str(text).split(str(sep))
        if key == "Fn::FindInMap":
            m, k1, k2 = (self.resolve(v) for v in arg)
            try:
                return self.template.doc["Mappings"][m][k1][k2]
            except (KeyError, TypeError) as exc:
                raise TemplateError(f"Fn::FindInMap {m}/{k1}/{k2} not found") from exc
        if key == "Fn::GetAZs":
            region = self.identity.region
            return [f"{region}a", f"{region}b", f"{region}c"]
        if key == "Fn::Base64":
            import base64  # noqa: PLC0415 - rare

            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        raise TemplateError(f"{key} is not supported by the local stack")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise TemplateError("Fn::Sub needs a string")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                lid, attr = name.split(".", 1)
                return str(self._fn("Fn::GetAtt", [lid, attr]))
            value = self._ref(name)
            if value is NO_VALUE:
                raise TemplateError(f"AWS::NoValue inside Fn::Sub ({name})")
            return str(value)

        return _SUB_VAR.sub(replace, text)
