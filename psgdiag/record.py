"""Records: the part of `dataclasses` psgdiag uses, built without generating source code.

`@dataclass(frozen=True)` writes and compiles half a dozen methods per class when a module is
imported (about 0.5 ms a class on the reference machine; ~10 ms on every `explain` run, which
imports some thirty of them: more than loading the knowledge base). `@record` builds the same
behaviour from a handful of shared closures instead. Type checkers see records as dataclasses
(`dataclass_transform`, frozen by default).

What a record supports, as a dataclass does:

- fields from the class's own annotations, in order; `ClassVar[...]` (spelled `ClassVar` or
  `typing.ClassVar`) is not a field; a plain default, or `field(default=...)` /
  `field(default_factory=...)` (the factory is called for each instance); a field without a
  default after one with is a TypeError when the class is built;
- `__init__` by position or keyword, with a TypeError for missing, unknown, repeated or too
  many arguments; `__eq__` by field values between instances of exactly the same class;
  `__repr__` as `Name(field=value, ...)`; `__match_args__`;
- `@record` is frozen (assigning or deleting a field raises FrozenRecordError, an
  AttributeError) and hashed by its field values; `@record(frozen=False)` is mutable and, being
  compared by value, unhashable. A method the class body defines wins over the generated one;
- pickling and `copy` (fields still at their plain default are left out of the pickled state:
  the class attribute answers for them), and this module's `fields`, `replace` and `asdict`.

What it does not do, unlike dataclasses:

- no inheritance of fields: a record subclassing a record has only its own annotations as
  fields (no record here subclasses another);
- no `__post_init__`, `InitVar`, `KW_ONLY` / `kw_only`, `slots`, `order` (no `<`), `eq=False`,
  `unsafe_hash`, and no per-field `init` / `repr` / `compare` / `hash` / `metadata`;
- annotations are read as written (strings under `from __future__ import annotations`) and
  never evaluated, so nothing resolves or checks them; `ClassVar` is recognised by its spelling
  only (`typing.ClassVar` under another module alias is taken for a field);
- a mutable default (`x: list = []`) is accepted and shared by every instance, where dataclasses
  refuse it: use `field(default_factory=list)`;
- `__init__`'s signature is `(*args, **kwargs)` (inspect and help show no field names), the
  class gets no generated `__doc__`, and `__repr__` has no guard against a record that
  contains itself;
- it is not a dataclass at run time: `dataclasses.is_dataclass`, `.fields`, `.replace` and
  `.asdict` do not work on it; use `fields`, `replace` and `asdict` from here. `replace`
  copies the instance without calling `__init__`; `fields` returns names, not Field objects;
  `asdict` rebuilds lists and tuples by their type, so a namedtuple inside a record fails there.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

_MISSING: Any = object()


class FrozenRecordError(AttributeError):
    """Raised when code tries to change a frozen record."""


class _Field:
    __slots__ = ("default", "factory")

    def __init__(self, default: Any, factory: Callable[[], Any] | None) -> None:
        self.default = default
        self.factory = factory


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """Declare a field's default, or a factory called for each new instance (lists, dicts)."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("give a default or a default_factory, not both")
    return _Field(default, default_factory)


def _fields_of(cls: type) -> tuple[tuple[str, ...], dict[str, Any], dict[str, Callable[[], Any]]]:
    names: list[str] = []
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    # The class's own annotations only (no inheritance between records); inspect is not needed.
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, note in own.items():
        if str(note).startswith(("ClassVar", "typing.ClassVar")):
            continue
        names.append(name)
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Field):
            if value.factory is not None:
                factories[name] = value.factory
                delattr(cls, name)
            else:
                defaults[name] = value.default
                setattr(cls, name, value.default)
        elif value is not _MISSING:
            defaults[name] = value
    seen_default = False
    for name in names:
        if name in defaults or name in factories:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with")
    return tuple(names), defaults, factories


def _make_init(
    cls_name: str,
    names: tuple[str, ...],
    defaults: dict[str, Any],
    factories: dict[str, Callable[[], Any]],
) -> Callable[..., None]:
    count = len(names)
    known = frozenset(names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > count:
            raise TypeError(f"{cls_name}() takes {count} arguments but {len(args)} were given")
        slots = self.__dict__
        slots.update(zip(names, args, strict=False))
        if kwargs:
            for key in kwargs:
                if key not in known:
                    raise TypeError(f"{cls_name}() got an unexpected keyword argument {key!r}")
                if key in slots:
                    raise TypeError(f"{cls_name}() got multiple values for argument {key!r}")
            slots.update(kwargs)
        if len(slots) < count:
            for name in names:
                if name in slots:
                    continue
                if name in defaults:
                    slots[name] = defaults[name]
                elif name in factories:
                    slots[name] = factories[name]()
                else:
                    raise TypeError(f"{cls_name}() missing required argument {name!r}")

    return __init__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def _build(cls: type[T], frozen: bool) -> type[T]:
    names, defaults, factories = _fields_of(cls)
    if not names:
        values: Callable[[Any], tuple[Any, ...]] = lambda obj: ()  # noqa: E731
    elif len(names) == 1:
        one = attrgetter(names[0])
        values = lambda obj: (one(obj),)  # noqa: E731
    else:
        values = attrgetter(*names)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(values(self) == values(other))

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(names, values(self), strict=True))
        return f"{type(self).__qualname__}({inner})"

    def __getstate__(self: Any) -> dict[str, Any]:
        # Fields still at their plain default are left out: the class attribute answers for
        # them after unpickling, and snapshots of many records load measurably faster.
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in defaults
            or type(value) is not type(defaults[key])
            or value != defaults[key]
        }

    methods: dict[str, Any] = {
        "__init__": _make_init(cls.__name__, names, defaults, factories),
        "__eq__": __eq__,
        "__repr__": __repr__,
        "__getstate__": __getstate__,
    }
    if frozen:
        methods["__setattr__"] = _frozen_setattr
        methods["__delattr__"] = _frozen_delattr
    if cls.__dict__.get("__hash__") is None:  # absent, or None because the body defined __eq__
        # frozen: hashed by value; mutable and compared by value: unhashable (as dataclasses)
        methods["__hash__"] = (lambda self: hash(values(self))) if frozen else None
    methods["__record_fields__"] = names
    methods["__match_args__"] = names
    for name, method in methods.items():
        if name not in cls.__dict__ or name == "__hash__":
            setattr(cls, name, method)
    return cls


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, frozen: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T] | None = None, /, *, frozen: bool = True) -> Any:
    """Class decorator: turn annotated attributes into fields (frozen unless frozen=False)."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)


def fields(obj: Any) -> tuple[str, ...]:
    """Return the field names of a record (class or instance), in declaration order."""
    names: tuple[str, ...] = obj.__record_fields__
    return names


def replace(obj: T, /, **changes: Any) -> T:
    """Return a copy of a record with some fields changed."""
    names = fields(obj)
    unknown = changes.keys() - set(names)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    new = object.__new__(type(obj))
    state = new.__dict__
    state.update(obj.__dict__)
    state.update(changes)
    return new


def asdict(obj: Any) -> Any:
    """Return a record as plain dicts, lists and values, recursively (as dataclasses.asdict)."""
    if hasattr(type(obj), "__record_fields__"):
        return {name: asdict(getattr(obj, name)) for name in fields(obj)}
    if isinstance(obj, dict):
        return {key: asdict(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(asdict(value) for value in obj)
    return obj
