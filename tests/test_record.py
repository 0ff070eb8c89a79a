"""psgdiag.record: the dataclass subset the pipeline relies on, without generated code."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from psgdiag.model import Evidence, Facts, FactTest, FactValue, Strength
from psgdiag.record import FrozenRecordError, asdict, field, fields, record, replace


@record
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)


@record(frozen=False)
class Bag:
    items: list[int] = field(default_factory=list)
    size: int = 0


def test_positional_keyword_and_defaults() -> None:
    assert Point(1) == Point(x=1, y=0, tags=())
    assert Point(1, 2).y == 2
    assert Point(1, tags=("a",)).tags == ("a",)
    assert fields(Point) == ("x", "y", "tags")
    assert Point.__match_args__ == ("x", "y", "tags")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument 'x'"),
        ((1,), {"x": 2}, "multiple values for argument 'x'"),
        ((1,), {"z": 2}, "unexpected keyword argument 'z'"),
        ((1, 2, (), 4), {}, "takes 3 arguments but 4 were given"),
    ],
)
def test_bad_construction_is_a_type_error(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)


def test_frozen_equality_hash_and_repr() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenRecordError, match="field 'x' of a frozen Point"):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        del p.y
    assert p == Point(1, 2) and p != Point(2, 1)
    assert hash(p) == hash(Point(1, 2))
    assert {p, Point(1, 2)} == {p}
    same_values: object = (1, 2, ())
    assert p != same_values  # another type is never equal
    assert repr(p) == "Point(x=1, y=2, tags=())"


def test_mutable_records_are_unhashable_and_get_fresh_factories() -> None:
    a, b = Bag(), Bag()
    a.items.append(1)
    a.size = 1
    assert b.items == [] and a == Bag([1], 1)
    with pytest.raises(TypeError):
        hash(a)


def test_field_order_rule_is_checked() -> None:
    with pytest.raises(TypeError, match="without a default follows one with"):

        @record
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


def test_replace_asdict_pickle_and_copy() -> None:
    p = Point(1, 2, ("t",))
    q = replace(p, y=5)
    assert q == Point(1, 5, ("t",)) and p.y == 2
    with pytest.raises(TypeError, match="has no field 'z'"):
        replace(p, z=1)
    ev = Evidence("e", Strength.STRONG, "fact", fact=FactTest("locale", "==", "de-DE"))
    assert asdict(ev)["fact"] == {"name": "locale", "op": "==", "value": "de-DE", "every": False}
    facts = Facts(values={"ps": (FactValue("5.1", 3),)})
    for copied in (pickle.loads(pickle.dumps(facts)), copy.deepcopy(facts)):
        assert copied == facts and copied is not facts
    assert pickle.loads(pickle.dumps(ev)) == ev


def test_the_documented_differences_from_dataclasses() -> None:
    """psgdiag.record's docstring lists these: change it with them."""
    import dataclasses

    @record
    class Shared:
        items: list[int] = []  # noqa: RUF012 - the difference under test

    assert Shared().items is Shared().items  # dataclasses refuse a mutable default

    @record
    class Child(Point):
        z: int = 0

    assert fields(Child) == ("z",)  # no inherited fields
    assert not dataclasses.is_dataclass(Point)
