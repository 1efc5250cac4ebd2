"""What a live run is made of: a scenario, a seed and the few settings the app lets a user change.

Every setting maps onto scenario data, never onto model code:

| setting | scenario data |
|---|---|
| demand growth | ``demand.multiplier`` (scales every segment's growth) |
| funding sentiment | the investors' ``sentiment``; ``long_run_sentiment`` moves in proportion |
| packaging-capacity growth | ``max_growth_per_year`` of the foundry |
| custom silicon | keep or drop the scenario's ``programs`` |
| labs launch their own apps | keep or drop the scenario's ``launch_app`` events |

A setting left at the scenario's own value changes nothing, so an untouched setup runs exactly the
scenario ``margins run`` runs. A scenario file a user opens is read, merged and validated by the
same code as ``margins validate``, and a bad file raises the same :class:`ScenarioError`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runs.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    library_names,
    load_layers,
    load_raw,
    validate,
    validate_layers,
)

MAX_SEED = 2**63 - 1
DEFAULT_SCENARIO = "baseline"


@dataclass(frozen=True, slots=True)
class Knob:
    """A slider: what it is called, its range and step, and how its value reads."""

    label: str
    lo: float
    hi: float
    step: float
    unit: str
    help: str

    def text(self, value: float) -> str:
        match self.unit:
            case "x":
                return f"×{value:.2f}"
            case "%/yr":
                return f"{100 * value:.0f}% a year"
            case _:
                return f"{value:.2f}"


KNOBS: dict[str, Knob] = {
    "demand_growth": Knob(
        "Demand growth",
        0.0,
        3.0,
        0.05,
        "x",
        "Scales every customer segment's growth: users, usage and spending (×1 = the "
        "scenario's own).",
    ),
    "sentiment": Knob(
        "Funding sentiment",
        0.0,
        3.0,
        0.05,
        "",
        "Investors' mood at the start: 1 funds every round asked, below 1 grants less. Its "
        "long-run level moves in proportion.",
    ),
    "packaging_growth": Knob(
        "Packaging-capacity growth",
        0.0,
        3.0,
        0.05,
        "%/yr",
        "The most the foundry's advanced-packaging capacity can grow in a year (100% = doubling).",
    ),
}

SWITCHES: dict[str, tuple[str, str]] = {
    "custom_silicon": (
        "Custom silicon",
        "Clouds' own chips (TPU, Trainium, Maia): off drops every custom-chip "
        "programme, so all chips come from the merchant market.",
    ),
    "lab_apps": (
        "Labs launch their own apps",
        "Off drops the scripted launches of labs' apps (e.g. a "
        "coding assistant) that compete with the apps reselling their models.",
    ),
}


@dataclass(frozen=True, slots=True)
class Opened:
    """A scenario as opened: a library name or a user's file, merged onto what it extends.

    Attributes:
        name: the library name or the file's name.
        raw: the merged tables (never changed in place).
        source: how error messages name it (as ``margins validate`` does).
        from_file: True for a file the user opened.
        scenario: the validated scenario, as the file defines it.
    """

    name: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    source: str
    from_file: bool
    scenario: Scenario = field(repr=False, compare=False)
    digest: str = ""


def open_library(name: str) -> Opened:
    """A scenario of the library, loaded and validated (raises :class:`ScenarioError`)."""
    raw, source = load_raw(name)
    scenario = validate(raw, source)
    return Opened(name, raw, source, False, scenario, scenario.digest())


#: the largest scenario file the app opens, in bytes (checked here, on the server, whatever the
#: page sends; the page refuses a larger file before sending it)
MAX_UPLOAD_BYTES = 2**20
#: the longest file name the app takes, in bytes of UTF-8 (what file systems allow)
MAX_NAME_BYTES = 255


def upload_name(filename: str) -> str:
    """The name a user's file is known by, checked: a plain file name (no folders), printable,
    at most :data:`MAX_NAME_BYTES` bytes. Raises :class:`ScenarioError`."""
    name = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        name = "scenario.toml"
    problem = None
    if name in (".", ".."):
        problem = "not a file name"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "a file name may not hold control characters (such as NUL)"
    elif len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        problem = f"a file name may be at most {MAX_NAME_BYTES} bytes long"
    if problem:
        raise ScenarioError(name, "", f"{problem}; rename the file and open it again")
    return name


def open_file(filename: str, data: bytes | str) -> Opened:
    """A scenario file a user opened, checked as ``margins validate FILE`` checks it, except that
    it may ``extends`` only a scenario of the library: a file sent to the app never makes the
    server read any other file, and no message says anything about the server's files.

    Raises :class:`ScenarioError` whose message names the file as the user knows it (not where
    it was stored to be read): also for a file name that is not one, or a file over
    :data:`MAX_UPLOAD_BYTES`.
    """
    name = upload_name(filename)
    # a text of more characters than the limit has at least as many bytes: refused unencoded
    if len(data) <= MAX_UPLOAD_BYTES and isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            name, "", f"larger than {MAX_UPLOAD_BYTES // 2**20} MB: not a scenario file"
        )
    with tempfile.TemporaryDirectory(prefix="margins-open-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            raw, _, layers = load_layers(path, library_only=True, source=name)
            scenario = validate_layers(raw, name, layers)
        except ScenarioError as exc:
            message = exc.message.replace(str(path), name).replace(tmp, "")
            raise ScenarioError(exc.source, exc.key, message) from None
    return Opened(name, raw, name, True, scenario, scenario.digest())


def _firms_of_role(scenario: Scenario, role: str) -> list[str]:
    return [firm_id for firm_id, spec in scenario.firms.items() if spec.role == role]


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything a live run is built from. Equal setups build equal runs.

    Settings at the scenario's own values (see :func:`defaults`) change nothing.
    """

    opened: Opened
    seed: int
    demand_growth: float
    sentiment: float
    packaging_growth: float
    custom_silicon: bool = True
    lab_apps: bool = True
    lesson: str = ""

    @property
    def name(self) -> str:
        return self.opened.scenario.name

    def available(self) -> dict[str, bool]:
        """Which settings this scenario has something to act on."""
        sc = self.opened.scenario
        return {
            "demand_growth": True,
            "sentiment": bool(_firms_of_role(sc, "investors")),
            "packaging_growth": bool(_firms_of_role(sc, "foundry")),
            "custom_silicon": bool(sc.programs),
            "lab_apps": any(e.kind == "launch_app" for e in sc.events),
        }

    def overrides(self) -> dict[str, Any]:
        """The scenario values this setup changes, by dotted path."""
        own = defaults(self.opened)
        sc = self.opened.scenario
        out: dict[str, Any] = {}
        if self.seed != own.seed:
            out["scenario.seed"] = int(self.seed)
        if self.demand_growth != own.demand_growth:
            out["demand.multiplier"] = float(self.demand_growth)
        if self.sentiment != own.sentiment:
            for firm_id in _firms_of_role(sc, "investors"):
                params = sc.firms[firm_id].params
                ratio = self.sentiment / params.sentiment if params.sentiment > 0 else 1.0
                out[f"firms.{firm_id}.sentiment"] = float(self.sentiment)
                out[f"firms.{firm_id}.long_run_sentiment"] = float(
                    min(5.0, max(0.0, params.long_run_sentiment * ratio))
                )
        if self.packaging_growth != own.packaging_growth:
            for firm_id in _firms_of_role(sc, "foundry"):
                out[f"firms.{firm_id}.max_growth_per_year"] = float(self.packaging_growth)
        return out

    def raw(self) -> dict[str, Any]:
        """The scenario's tables with this setup applied."""
        raw = apply_overrides(self.opened.raw, self.overrides(), self.opened.source)
        if not self.custom_silicon and raw.get("programs"):
            raw["programs"] = {}
        if not self.lab_apps and raw.get("events"):
            raw["events"] = [e for e in raw["events"] if e.get("kind") != "launch_app"]
        return raw

    def build(self) -> Scenario:
        """The validated scenario this setup runs (what ``margins run`` would run)."""
        if not self.overrides() and self.custom_silicon and self.lab_apps:
            return self.opened.scenario
        return validate(self.raw(), self.opened.source)

    def changes(self) -> list[str]:
        """What this setup changes from the scenario's own values, in plain words."""
        own = defaults(self.opened)
        out = []
        if self.seed != own.seed:
            out.append(f"seed {self.seed}")
        for key, knob in KNOBS.items():
            if getattr(self, key) != getattr(own, key):
                out.append(f"{knob.label.lower()} {knob.text(getattr(self, key))}")
        if not self.custom_silicon and own.custom_silicon and self.available()["custom_silicon"]:
            out.append("no custom silicon")
        if not self.lab_apps and own.lab_apps and self.available()["lab_apps"]:
            out.append("labs do not launch apps")
        return out

    def describe(self) -> str:
        """One line: the scenario, its seed and what is changed."""
        changed = [c for c in self.changes() if not c.startswith("seed ")]
        return f"{self.opened.name} · seed {self.seed} · " + (
            ", ".join(changed) if changed else "as the scenario defines it"
        )


def defaults(opened: Opened) -> Setup:
    """The setup that runs ``opened`` exactly as its file defines it."""
    sc = opened.scenario
    investors = _firms_of_role(sc, "investors")
    foundries = _firms_of_role(sc, "foundry")
    sentiment = sc.firms[investors[0]].params.sentiment if investors else 1.0
    growth = sc.firms[foundries[0]].params.max_growth_per_year if foundries else 1.0
    return Setup(
        opened=opened,
        seed=int(sc.seed),
        demand_growth=float(sc.demand.multiplier),
        sentiment=float(sentiment),
        packaging_growth=float(growth),
    )


def with_settings(setup: Setup, **settings: Any) -> Setup:
    """``setup`` with some settings changed, values snapped into their allowed ranges."""
    clean: dict[str, Any] = {}
    for key, value in settings.items():
        if key in KNOBS:
            knob = KNOBS[key]
            clean[key] = round(min(knob.hi, max(knob.lo, float(value))), 6)
        elif key in SWITCHES:
            clean[key] = bool(value)
        elif key == "seed":
            clean[key] = int(min(MAX_SEED, max(0, int(value))))
        elif key == "lesson":
            clean[key] = str(value)
        else:
            raise KeyError(
                f"unknown setting {key!r}; allowed: seed, lesson, " + ", ".join([*KNOBS, *SWITCHES])
            )
    return replace(setup, **clean)


def default_setup(name: str = DEFAULT_SCENARIO) -> Setup:
    """The library scenario ``name`` (or the first of the library) as it is defined."""
    names = library_names()
    if name not in names and names:
        name = names[0]
    return defaults(open_library(name))
