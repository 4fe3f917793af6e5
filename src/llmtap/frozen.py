"""`@frozen_record`: a frozen dataclass whose methods are shared functions, for the records a command defines as it
starts (a trace's summary, a stored span, a trace in full).

`@dataclass(frozen=True)` compiles six methods for each class it defines (`__init__`, `__repr__`, `__eq__`,
`__hash__`, `__setattr__`, `__delattr__`): ~2 ms a record, four of them in each `llmtap show`. A `frozen_record` is a
dataclass without those (`dataclasses.fields`, `asdict`, `replace`, `is_dataclass` work as on any dataclass), given
methods written once here that do what the generated ones do: construction by position or keyword with the
defaults and default factories, then `__post_init__`; equality and hash over the compared fields, in order, with
an instance of the same class only; `Name(field=value, ...)` as repr; `dataclasses.FrozenInstanceError` on
assigning or deleting an attribute. tests/core/test_frozen.py holds them to a frozen dataclass of the same fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

C = TypeVar("C", bound=type)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen_record(cls: C) -> C:
    """The class as a frozen dataclass (see the module's docstring)."""
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)
    if any(not field.init or field.kw_only for field in fields):
        raise TypeError(f"{cls.__qualname__}: a frozen_record takes plain fields (no init=False, no kw_only)")
    compared = tuple(field.name for field in fields if field.compare)
    shown = tuple(field.name for field in fields if field.repr)
    cls.__init__ = _init(cls, fields)  # type: ignore[misc]
    cls.__repr__ = _repr(shown)  # type: ignore[assignment]
    cls.__eq__ = _eq(compared)  # type: ignore[assignment]
    hashed = tuple(field.name for field in fields if (field.compare if field.hash is None else field.hash))
    cls.__hash__ = _hash(hashed)  # type: ignore[assignment]
    cls.__setattr__ = _setattr  # type: ignore[assignment]
    cls.__delattr__ = _delattr  # type: ignore[assignment]
    return cls


def _init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    names = tuple(field.name for field in fields)
    known = frozenset(names)
    defaults = {field.name: field.default for field in fields if field.default is not dataclasses.MISSING}
    factories = {
        field.name: field.default_factory for field in fields if field.default_factory is not dataclasses.MISSING
    }
    required_not = defaults.keys() | factories.keys()
    post_init = getattr(cls, "__post_init__", None)
    where = f"{cls.__qualname__}.__init__()"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not args and kwargs.keys() == known:  # every field by keyword, as the store builds them: no loop in Python
            self.__dict__.update(zip(names, map(kwargs.__getitem__, names), strict=True))
            if post_init is not None:
                post_init(self)
            return
        if len(args) > len(names):
            raise TypeError(f"{where} takes {len(names) + 1} positional arguments but {len(args) + 1} were given")
        given = dict(zip(names, args, strict=False))  # fewer arguments than fields: the rest by keyword
        for name, value in kwargs.items():
            if name not in known:
                raise TypeError(f"{where} got an unexpected keyword argument {name!r}")
            if name in given:
                raise TypeError(f"{where} got multiple values for argument {name!r}")
            given[name] = value
        state = self.__dict__
        for name in names:
            if name in given:
                state[name] = given[name]
            elif name in defaults:
                state[name] = defaults[name]
            elif name in factories:
                state[name] = factories[name]()
            else:
                missing = [repr(name) for name in names if name not in given and name not in required_not]
                raise TypeError(f"{where} missing required arguments: {', '.join(missing)}")
        if post_init is not None:
            post_init(self)

    return __init__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        state = self.__dict__
        return f"{self.__class__.__qualname__}({', '.join(f'{name}={state[name]!r}' for name in names)})"

    return __repr__


def _eq(names: tuple[str, ...]) -> Callable[[Any, object], Any]:
    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine, theirs = self.__dict__, other.__dict__
        return tuple(mine[name] for name in names) == tuple(theirs[name] for name in names)

    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        state = self.__dict__
        return hash(tuple(state[name] for name in names))

    return __hash__


def _setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
