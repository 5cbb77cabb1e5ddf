"""Hyper-parameters declared once: each configuration field says what it means and what
values it takes.

The fields of :class:`~lilyvae.training.config.TrainingConfig` and of the recipe
dataclasses (:mod:`lilyvae.model.recipes`) are declared with :func:`hyper`, which puts
a :class:`Hyper` (help text and :class:`ValueKind`) in the field's metadata. Everything
else is generated from it: the dataclasses' checks (:func:`field_problems`), the flags
of ``lilyvae train``/``bootstrap``/``sweep`` with their help (:mod:`lilyvae.cli.options`)
and the axes of a sweep's grid (:mod:`lilyvae.training.config`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: The argparse group of hyper-parameters, and that of the settings which decide how a
#: run executes but not what it computes.
HYPER_GROUP = "hyper-parameters"
RUNNING_GROUP = "running"


@dataclass(frozen=True)
class ValueKind:
    """The values a hyper-parameter takes: how one is read from text, the rule it obeys.

    ``rule`` completes the sentence "must be ...". ``read`` turns text into a value of
    the right type or raises ``ValueError`` saying why the text is not one (the rule is
    checked apart, by ``accepts``). ``cast`` converts a value given untyped (a JSON list,
    a sweep grid written as a dict) to the field's type.
    """

    rule: str
    read: Callable[[str], Any]
    accepts: Callable[[Any], bool]
    cast: Callable[[Any], Any]
    show: Callable[[Any], str] = str
    choices: tuple[str, ...] | None = None  # for argparse's own choice list
    is_list: bool = False  # values are written as lists (the command line: 64,32)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks the rule, or None."""
        return None if self.accepts(value) else f"must be {self.rule}"

    def parse(self, text: str) -> Any:
        """The value ``text`` spells, checked; ``ValueError`` says what is wrong with it."""
        value = self.read(text)
        problem = self.problem(value)
        if problem is not None:
            raise ValueError(f"{problem}, not {text}")
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an integer") from None


def _read_number(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _read_sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{text!r} is not a comma-separated list of integers") from None


def _cast_sizes(value: Any) -> Any:
    """A list or tuple of integral numbers as a tuple of ints (hashable, as a frozen
    config must be); anything else is left for the check to name."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        if all(float(v).is_integer() for v in value):
            return tuple(int(v) for v in value)
    return value


def _cast_int(value: Any) -> Any:
    return int(value) if isinstance(value, (int, float)) and float(value).is_integer() else value


def _show_number(value: Any) -> str:
    return "off" if value is None else repr(value)


def _show_plain(value: Any) -> str:
    return "off" if value is None else str(value)


def integer_kind(rule: str, accepts: Callable[[int], bool]) -> ValueKind:
    return ValueKind(rule, _read_int, lambda v: _is_int(v) and accepts(v), _cast_int, _show_plain)


def number_kind(rule: str, accepts: Callable[[float], bool]) -> ValueKind:
    return ValueKind(
        rule, _read_number, lambda v: _is_number(v) and accepts(v), float, _show_number
    )


def choice_kind(choices: Sequence[str], accepts: Callable[[Any], bool] | None = None) -> ValueKind:
    """One of ``choices`` (``accepts`` may allow more than the command line offers)."""
    choices = tuple(choices)
    return ValueKind(
        "one of " + ", ".join(repr(c) for c in choices),
        str,
        accepts or (lambda v: v in choices),
        str,
        choices=choices,
    )


INTEGER = integer_kind("an integer", lambda v: True)
POSITIVE_INT = integer_kind("a positive integer", lambda v: v > 0)
NON_NEGATIVE_INT = integer_kind("an integer >= 0", lambda v: v >= 0)
POSITIVE_NUMBER = number_kind("a positive number", lambda v: v > 0)
NON_NEGATIVE_NUMBER = number_kind("a number >= 0", lambda v: v >= 0)
FRACTION = number_kind("in [0, 1)", lambda v: 0 <= v < 1)
OPEN_FRACTION = number_kind("in (0, 1)", lambda v: 0 < v < 1)
SIZES = ValueKind(
    "a list of positive integers",
    _read_sizes,
    lambda v: isinstance(v, tuple) and len(v) > 0 and all(_is_int(h) and h > 0 for h in v),
    _cast_sizes,
    lambda v: ",".join(str(h) for h in v),
    is_list=True,
)
SWITCH = ValueKind(
    "True or False", str, lambda v: isinstance(v, bool), bool, lambda v: "on" if v else "off"
)


@dataclass(frozen=True)
class Hyper:
    """What one configuration field means and which values it takes.

    ``optional``: None is allowed too, and turns the feature off. ``grid``: a sweep may
    vary it. ``flag``: the training commands have a flag for it (``--snake-name``);
    fields without one are set some other way (``--model``, ``--recipe``) or not at all.
    """

    help: str
    kind: ValueKind
    optional: bool = False
    grid: bool = True
    flag: bool = True
    group: str = HYPER_GROUP


def hyper(default: Any, help: str, kind: ValueKind, **options: Any) -> Any:
    """A dataclass field with a default and its :class:`Hyper` (see the module's doc)."""
    return dataclasses.field(default=default, metadata={"hyper": Hyper(help, kind, **options)})


def hyper_of(cls: type, name: str) -> Hyper | None:
    """The :class:`Hyper` of field ``name``: a subclass that only changes a default
    redeclares the field without metadata, so the nearest base that has one answers."""
    for klass in cls.__mro__:
        field = getattr(klass, "__dataclass_fields__", {}).get(name)
        if field is not None and "hyper" in field.metadata:
            return field.metadata["hyper"]
    return None


def hyper_fields(cls: type) -> dict[str, Hyper]:
    """Every declared field of a dataclass (in field order) with its :class:`Hyper`."""
    found = {f.name: hyper_of(cls, f.name) for f in dataclasses.fields(cls)}
    return {name: h for name, h in found.items() if h is not None}


def field_problems(obj: Any) -> list[str]:
    """What is wrong with a configuration object's declared fields, one phrase each.

    List values become tuples of ints first (JSON and callers give lists; a frozen
    configuration holds tuples, so that it can be hashed and compared).
    """
    problems = []
    for name, h in hyper_fields(type(obj)).items():
        value = getattr(obj, name)
        if h.kind.is_list:
            value = h.kind.cast(value)
            object.__setattr__(obj, name, value)
        if value is None and h.optional:
            continue
        problem = h.kind.problem(value)
        if problem is not None:
            problems.append(f"{name} {problem}, not {value!r}")
    return problems
