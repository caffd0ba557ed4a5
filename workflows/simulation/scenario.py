"""A simulation scenario: what arrives, who works when, how long each step takes. Read from JSON (the format in
the README, "Sizing the post"); every key is optional, and a wrong one is refused with a message naming it."""

import dataclasses
import datetime
import json
import re

from inspection.roles import STEP_ROLES, Role, Step

DISTRIBUTIONS = ("exponential", "lognormal", "fixed")
# A person's time per step, in minutes: assumptions to replace with the post's own (`simulate --calibrate`).
DEFAULT_SERVICE_MINUTES = {
    Step.DOCUMENTARY_CHECK: 20,
    Step.IDENTITY_CHECK: 15,
    Step.PHYSICAL_CHECK: 60,
    Step.DECISION: 10,
    Step.COUNTERSIGN: 10,
    Step.ESCALATION: 15,
    Step.FOLLOW_UP: 30,
    Step.ARRIVAL_CONFIRMATION: 20,
}
# What the flow's gateways ask of a consignment, as shares (0 to 1) drawn per consignment.
DEFAULT_SHARES = {
    "documentary_unsatisfactory": 0.02,
    "identity_unsatisfactory": 0.01,
    "physical_unsatisfactory": 0.02,
    "sampled": 0.10,  # of the physical checks, a sample taken
    "detained": 0.5,  # of the samples, the consignment detained until the result (else released pending it)
    "lab_unfavourable": 0.05,
    "channelled": 0.02,  # accepted, but followed up (channelled goods)
}


class ScenarioInvalid(ValueError):
    """A scenario that cannot be run: the message names the key."""


@dataclasses.dataclass(frozen=True)
class Duration:
    mean: float  # in the unit of the key (minutes or hours)
    distribution: str = "exponential"


@dataclasses.dataclass(frozen=True)
class Hours:
    start: float  # hours after midnight
    end: float

    @property
    def always(self) -> bool:
        return self.start == 0 and self.end == 24


@dataclasses.dataclass(frozen=True)
class Batch:
    """A ship or flight calling on some weekdays (0 = Monday) at one time, with its consignments."""

    weekdays: frozenset[int]
    hour: float
    per_call: float


@dataclasses.dataclass(frozen=True)
class Scenario:
    days: int = 365
    seed: int = 1
    start: datetime.date = datetime.date(2027, 1, 4)
    per_day: float = 20.0
    arrival_times: tuple[float, ...] | None = None  # hours from the start, from a file of arrivals
    arrival_hours: Hours = Hours(6, 20)
    working_days_only: bool = True
    mix: dict[str, float] = dataclasses.field(default_factory=dict)  # CHED type or CN code: share
    seasonality: dict[int, float] = dataclasses.field(default_factory=dict)  # month: factor on the arrivals
    batches: tuple[Batch, ...] = ()
    opening_hours: Hours = Hours(7, 19)
    staff: dict[str, int] = dataclasses.field(
        default_factory=lambda: {Role.INSPECTOR: 3, Role.CERTIFYING_OFFICER: 1, Role.SUPERVISOR: 1}
    )
    service_minutes: dict[str, Duration] = dataclasses.field(
        default_factory=lambda: {step: Duration(minutes) for step, minutes in DEFAULT_SERVICE_MINUTES.items()}
    )
    staff_hours: dict[str, Hours] = dataclasses.field(default_factory=dict)  # role: its own hours
    lab_turnaround_hours: Duration = Duration(72, "lognormal")
    prenotification_hours: float = 24.0  # Part I submitted this long before arrival
    target_hours: float = 24.0  # arrival to decision, for the share decided in time
    shares: dict[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_SHARES))
    check_rates: dict[str, int] | None = None  # {"identity": %, "physical": %} instead of the catalogue's


# the fields read from the scenario's `arrivals` object
ARRIVAL_FIELDS = {"per_day", "arrival_times", "arrival_hours", "working_days_only", "mix", "seasonality", "batches"}
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _hours(key: str, text) -> Hours:
    match = _HOURS.match(str(text))
    if not match:
        raise ScenarioInvalid(f'{key}: expected "HH:MM-HH:MM", got {text!r}')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 + m1 / 60, h2 + m2 / 60
    if not (0 <= start < end <= 24 and m1 < 60 and m2 < 60):
        raise ScenarioInvalid(f"{key}: {text!r} is not a span within one day")
    return Hours(start, end)


def _number(key: str, value, *, low: float, high: float, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise ScenarioInvalid(f"{key}: expected a{'n integer' if integer else ' number'}, got {value!r}")
    if not low <= value <= high:
        raise ScenarioInvalid(f"{key}: {value} is outside {low}..{high}")
    return value


def _duration(key: str, value) -> Duration:
    if not isinstance(value, dict) or set(value) - {"mean", "distribution"}:
        raise ScenarioInvalid(f'{key}: expected {{"mean": number, "distribution": one of {DISTRIBUTIONS}}}')
    distribution = value.get("distribution", "exponential")
    if distribution not in DISTRIBUTIONS:
        raise ScenarioInvalid(f"{key}.distribution: {distribution!r} is not one of {', '.join(DISTRIBUTIONS)}")
    return Duration(_number(f"{key}.mean", value.get("mean"), low=0.001, high=10_000), distribution)


def _mapping(key: str, value) -> dict:
    if not isinstance(value, dict):
        raise ScenarioInvalid(f"{key}: expected an object")
    return value


def _batch(key: str, value) -> Batch:
    value = _mapping(key, value)
    if set(value) != {"weekdays", "time", "per_call"}:
        raise ScenarioInvalid(f'{key}: expected {{"weekdays": [0-6], "time": "HH:MM", "per_call": number}}')
    weekdays = value["weekdays"]
    if not isinstance(weekdays, list) or not all(isinstance(d, int) and 0 <= d <= 6 for d in weekdays):
        raise ScenarioInvalid(f"{key}.weekdays: a list of weekdays, 0 (Monday) to 6 (Sunday)")
    match = re.match(r"^(\d{2}):(\d{2})$", str(value["time"]))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ScenarioInvalid(f'{key}.time: expected "HH:MM", got {value["time"]!r}')
    return Batch(
        weekdays=frozenset(weekdays),
        hour=int(match.group(1)) + int(match.group(2)) / 60,
        per_call=_number(f"{key}.per_call", value["per_call"], low=0, high=10_000),
    )


def _arrival_file(path: str, start: datetime.date) -> tuple[float, ...]:
    """A file of arrivals: one ISO date-time a line (local time), as hours from the scenario's start."""
    origin = datetime.datetime.combine(start, datetime.time())
    try:
        with open(path, encoding="utf-8") as lines:
            moments = [datetime.datetime.fromisoformat(line.strip()) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise ScenarioInvalid(f"arrivals.process: cannot read arrivals from {path}: {exc}") from exc
    return tuple(sorted((m.replace(tzinfo=None) - origin).total_seconds() / 3600 for m in moments))


def scenario_from(data: dict) -> Scenario:
    """The scenario a JSON object describes, checked key by key."""
    data = _mapping("scenario", data)
    known = {f.name for f in dataclasses.fields(Scenario)} - ARRIVAL_FIELDS | {"arrivals"}
    unknown = set(data) - known
    if unknown:
        raise ScenarioInvalid(f"unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    values: dict = {}
    if "days" in data:
        values["days"] = int(_number("days", data["days"], low=1, high=3660, integer=True))
    if "seed" in data:
        values["seed"] = int(_number("seed", data["seed"], low=0, high=2**32 - 1, integer=True))
    if "start" in data:
        try:
            values["start"] = datetime.date.fromisoformat(str(data["start"]))
        except ValueError as exc:
            raise ScenarioInvalid(f"start: expected a date YYYY-MM-DD, got {data['start']!r}") from exc
    arrivals = _mapping("arrivals", data.get("arrivals", {}))
    unknown = set(arrivals) - {"per_day", "process", "hours", "working_days_only", "mix", "seasonality", "batches"}
    if unknown:
        raise ScenarioInvalid(f"arrivals: unknown key(s) {', '.join(sorted(unknown))}")
    if "per_day" in arrivals:
        values["per_day"] = float(_number("arrivals.per_day", arrivals["per_day"], low=0.01, high=10_000))
    process = arrivals.get("process", "poisson")
    if process != "poisson":
        if not isinstance(process, str):
            raise ScenarioInvalid('arrivals.process: "poisson" or the path of a file of arrival times')
        values["arrival_times"] = _arrival_file(process, values.get("start", Scenario.start))
    if "hours" in arrivals:
        values["arrival_hours"] = _hours("arrivals.hours", arrivals["hours"])
    if "working_days_only" in arrivals:
        if not isinstance(arrivals["working_days_only"], bool):
            raise ScenarioInvalid("arrivals.working_days_only: expected true or false")
        values["working_days_only"] = arrivals["working_days_only"]
    if "mix" in arrivals:
        mix = _mapping("arrivals.mix", arrivals["mix"])
        values["mix"] = {str(k): _number(f"arrivals.mix.{k}", v, low=0, high=1e6) for k, v in mix.items()}
        if not sum(values["mix"].values()):
            raise ScenarioInvalid("arrivals.mix: the shares add up to 0")
    if "seasonality" in arrivals:
        months = _mapping("arrivals.seasonality", arrivals["seasonality"])
        values["seasonality"] = {}
        for month, factor in months.items():
            if not str(month).isdigit() or not 1 <= int(month) <= 12:
                raise ScenarioInvalid(f"arrivals.seasonality.{month}: a month is 1 to 12")
            values["seasonality"][int(month)] = _number(f"arrivals.seasonality.{month}", factor, low=0, high=100)
    if "batches" in arrivals:
        if not isinstance(arrivals["batches"], list):
            raise ScenarioInvalid("arrivals.batches: expected a list of {weekdays, time, per_call}")
        values["batches"] = tuple(_batch(f"arrivals.batches.{i}", b) for i, b in enumerate(arrivals["batches"]))
    if "opening_hours" in data:
        values["opening_hours"] = _hours("opening_hours", data["opening_hours"])
    if "staff" in data:
        staff = _mapping("staff", data["staff"])
        roles = {STEP_ROLES[step] for step in Step}
        for role in set(staff) - set(roles):
            raise ScenarioInvalid(f"staff.{role}: not a role that performs steps ({', '.join(sorted(roles))})")
        values["staff"] = {
            **Scenario().staff,
            **{role: int(_number(f"staff.{role}", n, low=1, high=1000, integer=True)) for role, n in staff.items()},
        }
    if "staff_hours" in data:
        hours = _mapping("staff_hours", data["staff_hours"])
        roles = {STEP_ROLES[step] for step in Step}
        for role in set(hours) - set(roles):
            raise ScenarioInvalid(f"staff_hours.{role}: not a role that performs steps ({', '.join(sorted(roles))})")
        values["staff_hours"] = {role: _hours(f"staff_hours.{role}", text) for role, text in hours.items()}
    if "service_minutes" in data:
        service = _mapping("service_minutes", data["service_minutes"])
        for step in set(service) - set(Step.values):
            raise ScenarioInvalid(f"service_minutes.{step}: not a step ({', '.join(Step.values)})")
        values["service_minutes"] = {
            **Scenario().service_minutes,
            **{step: _duration(f"service_minutes.{step}", value) for step, value in service.items()},
        }
    if "lab_turnaround_hours" in data:
        values["lab_turnaround_hours"] = _duration("lab_turnaround_hours", data["lab_turnaround_hours"])
    for key in ("prenotification_hours", "target_hours"):
        if key in data:
            values[key] = float(_number(key, data[key], low=0, high=24 * 365))
    if "shares" in data:
        shares = _mapping("shares", data["shares"])
        for name in set(shares) - set(DEFAULT_SHARES):
            raise ScenarioInvalid(f"shares.{name}: unknown ({', '.join(DEFAULT_SHARES)})")
        values["shares"] = {
            **DEFAULT_SHARES,
            **{name: float(_number(f"shares.{name}", v, low=0, high=1)) for name, v in shares.items()},
        }
    if "check_rates" in data:
        rates = _mapping("check_rates", data["check_rates"])
        if set(rates) != {"identity", "physical"}:
            raise ScenarioInvalid('check_rates: expected {"identity": percent, "physical": percent}')
        values["check_rates"] = {k: int(_number(f"check_rates.{k}", v, low=0, high=100)) for k, v in rates.items()}
    return Scenario(**values)


def scenario_read(path: str) -> dict:
    """The JSON object of a scenario file."""
    try:
        with open(path, encoding="utf-8") as text:
            data = json.load(text)
    except (OSError, ValueError) as exc:
        raise ScenarioInvalid(f"cannot read the scenario {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioInvalid(f"{path}: a scenario is a JSON object")
    return data
