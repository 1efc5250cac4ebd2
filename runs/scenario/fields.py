"""The one declaration of a scenario's keys, read into pydantic models and one-line errors.

Every key a scenario file may set is a field of a frozen dataclass: the firms' ``Params`` and
:class:`~agents.technology.Technology` (declared with :func:`agents.base.param`),
:class:`~agents.world.Markets`, :class:`~agents.world.Demand`, :class:`~agents.world.Program`,
:class:`~agents.world.Event` and :class:`~agents.world.FirmSpec` in ``agents/``, and the
scenario's own :class:`~runs.scenario.schema.Header` and :class:`~runs.scenario.claims.Claim`.
A field's annotation is its type, its default is the default, and its metadata holds the rest:

* ``lo``, ``hi`` — the allowed range (for a table of segment prices, the range of each price);
* ``allowed`` — the allowed choices, and ``noun`` what a choice is (``"a metric"``);
* ``period`` — the value is a calendar period (:mod:`market.calendar`); more generally
  ``check``, a function of the value returning what is wrong with it (or ``None``), and
  ``help``, what a good value looks like;
* ``doc`` — what the key means; ``derived`` — not a key of the file (the loader fills it in);
  ``type_name`` — how a message names the key's type, where the default words do not fit.

The simulation reads the dataclasses, so they stay plain and fast. Validation is pydantic v2's:
it is the most widely used validation library for Python, its ``Field`` carries the constraints
and the description of a field together, so a model built from the declaration (with
:func:`pydantic.create_model`) needs nothing declared twice, and it gives a JSON Schema of every
table for free (:func:`json_schema`). Models are strict — a string is not read as a number, a
bool is not an int, NaN and infinities are refused — and forbid unknown keys. Pydantic's errors
are translated into the project's own messages: one line naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from market.calendar import PERIOD_HELP, is_period
from runs.scenario.errors import ScenarioError, shown

CONFIG = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)
TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
#: every table-valued parameter maps end-user segments to a price per seat a quarter
SEGMENT_TABLE = "a table of segment = price"
#: the highest price per seat a quarter a segment table may hold, when its field declares none
SEGMENT_PRICE_HI = 1e6


@dataclass(frozen=True, slots=True, eq=False)
class Key:
    """One key of a scenario table, as its dataclass field declares it (compared, and cached,
    by identity: :func:`keys` makes each one once)."""

    name: str
    type: Any
    default: Any = dataclasses.MISSING
    lo: float | None = None
    hi: float | None = None
    allowed: tuple[str, ...] = ()
    noun: str = "allowed"
    check: Callable[[Any], str | None] | None = None
    help: str = ""
    doc: str = ""
    type_name: str = ""

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING

    @property
    def blank(self) -> Any:
        """The default, or an empty value of the key's type when it has none."""
        return "" if self.required and self.type is str else self.default


def period_problem(value: Any) -> str | None:
    """What is wrong with a period, or None."""
    return None if is_period(value) else f"{shown(value)} is not {PERIOD_HELP}"


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


@functools.cache
def keys(cls: type) -> dict[str, Key]:
    """The keys a dataclass declares, in its field order (derived fields left out)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if meta.get("derived"):
            continue
        period = bool(meta.get("period"))
        out[f.name] = Key(
            f.name,
            hints[f.name],
            _default(f),
            meta.get("lo"),
            meta.get("hi", SEGMENT_PRICE_HI if typing.get_origin(hints[f.name]) is dict else None),
            tuple(meta.get("allowed", ())),
            meta.get("noun", "allowed"),
            period_problem if period else meta.get("check"),
            PERIOD_HELP if period else meta.get("help", ""),
            meta.get("doc", ""),
            meta.get("type_name", ""),
        )
    return out


def _checked(key: Key) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        problem = None if value == key.default else key.check(value)
        if problem:
            raise PydanticCustomError("scenario", "{problem}", {"problem": problem})
        return value

    return run


def annotation(key: Key) -> Any:
    """The pydantic type of a key: its Python type with its range, choices and checks."""
    bounds = {"ge": key.lo, "le": key.hi}
    if key.type is bool or key.type is Any:
        return key.type
    if key.type in (int, float):
        return Annotated[key.type, Field(**bounds)]
    if key.type is str:
        if key.allowed:
            # a choice may be left at its default (e.g. empty: not set)
            choices = (
                *key.allowed,
                *(() if key.required or key.default in key.allowed else (key.default,)),
            )
            return Literal[choices]
        if key.check is not None:
            return Annotated[str, AfterValidator(_checked(key))]
        return Annotated[str, Field(min_length=1)] if key.required else str
    if typing.get_origin(key.type) is dict and typing.get_args(key.type) == (str, float):
        return dict[str, Annotated[float, Field(**bounds)]]
    raise TypeError(f"scenario key {key.name}: cannot validate {key.type!r}")


@functools.cache
def model(*classes: type) -> type[pydantic.BaseModel]:
    """A strict pydantic model of the keys of ``classes`` (merged, in order)."""
    fields: dict[str, Any] = {}
    for key in table_keys(*classes).values():
        default = ... if key.required else key.default
        if isinstance(default, dict):
            info = Field(default_factory=lambda d=default: dict(d), description=key.doc)
        else:
            info = Field(default=default, description=key.doc)
        fields[key.name] = (annotation(key), info)
    return pydantic.create_model("_".join(c.__name__ for c in classes), __config__=CONFIG, **fields)


def table_keys(*classes: type) -> dict[str, Key]:
    return {name: key for cls in classes for name, key in keys(cls).items()}


@functools.cache
def _adapter(key: Key) -> TypeAdapter:
    return TypeAdapter(annotation(key), config=CONFIG)


def json_schema(*classes: type) -> dict[str, Any]:
    """The JSON Schema of a table whose keys ``classes`` declare."""
    return model(*classes).model_json_schema()


# ---------------------------------------------------------------------------------------------
def check_table(source: str, prefix: str, table: Any, *classes: type) -> dict[str, Any]:
    """Validate ``table`` against the keys of ``classes``; return the keys it sets, checked.

    A mistake is a :class:`ScenarioError` naming ``prefix.key``.
    """
    if not isinstance(table, dict):
        raise ScenarioError(source, prefix, "must be a table")
    try:
        checked = model(*classes).model_validate(table)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        error = errors[0]
        name = str(error["loc"][0])
        if error["type"] == "extra_forbidden":
            raise ScenarioError(
                source,
                f"{prefix}.{name}",
                "unknown key; allowed: " + ", ".join(table_keys(*classes)),
            ) from None
        key = table_keys(*classes)[name]
        raise ScenarioError(source, f"{prefix}.{name}", message(error, key)) from None
    return {k: getattr(checked, k) for k in table}


def check_value(source: str, where: str, value: Any, key: Key) -> Any:
    """Validate one value against a declared key; a mistake names ``where``."""
    try:
        return _adapter(key).validate_python(value)
    except ValidationError as exc:
        raise ScenarioError(source, where, message(exc.errors()[0], key)) from None


def message(error: Any, key: Key) -> str:
    """The project's words for one pydantic error on ``key``."""
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return (
            "is required"
            + (f" ({key.help})" if key.help else "")
            + (f"; allowed: {', '.join(key.allowed)}" if key.allowed else "")
        )
    if kind == "scenario":
        return error["msg"]
    if key.check is not None and kind == "string_type":
        return key.check(value) or error["msg"]
    if typing.get_origin(key.type) is dict:
        lo = "" if key.lo is None else f" >= {key.lo:g}"
        hi = "" if key.hi is None else f" and <= {key.hi:g}"
        return (
            f"must be {SEGMENT_TABLE} (a number{lo}{hi})"
            if lo or hi
            else f"must be {SEGMENT_TABLE}"
        )
    if kind == "string_too_short":
        return "is required"
    if kind == "finite_number":
        return f"must be a finite number, got {shown(value)}"
    if kind == "literal_error":
        return f"{shown(value)} is not {key.noun}; allowed: " + ", ".join(key.allowed)
    if kind in ("greater_than_equal", "less_than_equal"):
        number = float(value) if key.type is float else value
        if key.lo is not None and key.hi is not None:
            return f"{shown(number)} is out of range; allowed {key.lo} to {key.hi}"
        return f"{shown(number)} is out of range; allowed " + (
            f"at least {key.lo}" if key.hi is None else f"at most {key.hi}"
        )
    if kind.endswith("_type") and key.type in TYPE_NAMES:
        return f"must be {key.type_name or TYPE_NAMES[key.type]}, got {shown(value)}"
    return error["msg"]
