"""An immutable value class with ``__slots__``: what a frozen dataclass gave, without importing
``dataclasses`` (on the authorizer's cold path: docs/architecture.md, "Cold start").

For the records where a ``typing.NamedTuple`` would be wrong: a constructor that validates (a
NamedTuple's ``_replace`` would bypass it), or kinds that must never equal each other or a tuple
(field-less NamedTuples all equal ``()``). Equal and hashed by class and fields; ``_replace``,
``copy``, ``pickle`` and ``copy.replace`` rebuild through the constructor, so a copy is checked
like a new value.
"""

from __future__ import annotations

from typing import Any, Self

__all__ = ["Frozen"]


class Frozen:
    """Base of an immutable slotted value. A subclass names its fields, in constructor order, in
    ``_fields`` (each also one of its ``__slots__``) and stores them with :meth:`_init`."""

    __slots__ = ()
    #: the fields, in the constructor's order
    _fields: tuple[str, ...] = ()

    def _init(self, *values: Any) -> None:
        """Store ``values`` in ``_fields`` order (the constructor's last step)."""
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__name__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{self.__class__.__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self.__class__.__name__} is immutable: cannot delete {name!r}")

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (field names), validated like a new value.

        :raises TypeError: an unknown field name.
        """
        values = dict(zip(self._fields, self._values(), strict=True))
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{self.__class__.__name__} has no field {sorted(unknown)[0]!r}")
        return self.__class__(**{**values, **changes})

    def __replace__(self, **changes: Any) -> Self:  # ``copy.replace`` (Python 3.13)
        return self._replace(**changes)

    def __reduce__(self) -> tuple[type[Self], tuple[Any, ...]]:
        # copy, deepcopy and pickle rebuild through the constructor (its checks), not setattr
        return (self.__class__, self._values())
