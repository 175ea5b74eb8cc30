from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field

import pytest

from callscale.backends.base import Batch
from callscale.records import Completion, Message, ModelCard, Request, Sampling, TokenLogprob, Usage
from callscale.recordtools import once, slot_init

RECORDS = [Message, Sampling, Usage, TokenLogprob, Completion, ModelCard, Batch]


def _plain_and_quick() -> tuple[type, type]:
    def make() -> type:
        @dataclass(frozen=True, slots=True)
        class Rec:
            a: int
            b: str = "b"
            c: list[int] = field(default_factory=list)
            d: tuple[str, ...] = ()

            def __post_init__(self) -> None:
                if not isinstance(self.d, tuple):
                    object.__setattr__(self, "d", tuple(self.d))

        return Rec

    return make(), slot_init(make())


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {}), ((1, "x"), {}), ((1,), {"c": [2]}), ((1, "x", [3], ["p"]), {}), ((), {"d": ["q"], "a": 5})],
)
def test_slot_init_builds_what_the_dataclass_init_builds(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    plain, quick = _plain_and_quick()
    assert dataclasses.asdict(quick(*args, **kwargs)) == dataclasses.asdict(plain(*args, **kwargs))


def test_slot_init_keeps_the_dataclass_contract() -> None:
    plain, quick = _plain_and_quick()
    assert str(inspect.signature(quick)) == str(inspect.signature(plain))
    one, two = quick(1), quick(1)
    assert one.c is not two.c  # a fresh default per instance
    assert one == two and quick(1, d=("x",)) == quick(1, d=["x"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.a = 2
    with pytest.raises(TypeError, match="missing"):
        quick()
    with pytest.raises(TypeError, match="unexpected keyword"):
        quick(1, z=2)
    with pytest.raises(TypeError, match="multiple values"):
        quick(1, a=2)


@pytest.mark.parametrize("record", RECORDS)
def test_every_record_has_its_fields_as_parameters(record: type) -> None:
    params = list(inspect.signature(record).parameters.values())
    fields = dataclasses.fields(record)
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        if f.default is not dataclasses.MISSING:
            assert p.default == f.default
        elif f.default_factory is dataclasses.MISSING:
            assert p.default is inspect.Parameter.empty
    assert vars(record)["__init__"].__qualname__ == f"{record.__qualname__}.__init__"


def test_records_built_quickly_behave_as_before() -> None:
    c = Completion("A", 3)
    assert (c.usage, c.finish_reason, c.latency_s, c.logprobs, c.cached, c.error) == (Usage(), "stop", 0.0, None, False, None)
    assert Completion("A", 3).usage is not c.usage
    assert Sampling(stop=["\n"]).stop == ("\n",)  # type: ignore[arg-type]  # __post_init__ still runs
    assert pickle.loads(pickle.dumps(c)) == c
    assert Batch(Request.chat("m", "q"), 2, 3).seed == Request.chat("m", "q").seed_for(2)


def test_slot_init_refuses_what_it_cannot_build() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class KeywordOnly:
        a: int = field(kw_only=True)

    @dataclass(frozen=True, slots=True)
    class Derived:
        a: int
        b: int = field(init=False, default=0)

    unsupported: list[tuple[type, str]] = [
        (NoSlots, "frozen dataclass with slots"),
        (NotFrozen, "frozen dataclass with slots"),
        (KeywordOnly, "positional __init__ fields only"),
        (Derived, "positional __init__ fields only"),
    ]
    for cls, message in unsupported:
        with pytest.raises(TypeError, match=message):
            slot_init(cls)


def test_once_computes_on_first_read_only() -> None:
    calls = []

    class Box:
        @once
        def value(self) -> int:
            """The value."""
            calls.append(1)
            return 42

    box = Box()
    assert (box.value, box.value, len(calls)) == (42, 42, 1)
    assert Box().value == 42 and len(calls) == 2  # per instance
    assert isinstance(Box.__dict__["value"], once) and Box.value.__doc__ == "The value."
