"""`python manage.py simulate --scenario FILE.json --out DIR [--sweep inspector=1..5]`: the capacity simulator."""

import datetime
import json
import re
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from inspection.errors import DomainInvalid
from workflows.simulation import ScenarioInvalid, SimulationError, scenario_from, scenario_read, simulate_staffing
from workflows.simulation.calibrate import calibrated
from workflows.simulation.report import summarise, write_report
from workflows.simulation.runs import sweep_parse

_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class Command(BaseCommand):
    help = "Replay a scenario of arrivals through the inspection flow; write summary.json, plots and report.html."

    def add_arguments(self, parser):
        parser.add_argument("--scenario", help="the scenario (JSON); without it, the defaults (README)")
        parser.add_argument("--out", required=True, help="the folder for summary.json, the plots and report.html")
        parser.add_argument("--sweep", help="ROLE=LOW..HIGH: run once per staff count of ROLE, e.g. inspector=1..5")
        parser.add_argument(
            "--calibrate",
            metavar="FROM..TO",
            help="fit arrivals, step times, lab turnaround and shares to the post's history over these dates "
            "(YYYY-MM-DD..YYYY-MM-DD); the scenario file's own keys win. Written to OUT/calibrated.json",
        )

        parser.add_argument(
            "--language", choices=[code for code, _name in settings.LANGUAGES], help="the report's language"
        )

    def handle(self, *args, language=None, **options):
        with translation.override(language or settings.LANGUAGE_CODE):
            self._simulate(**options)

    def _simulate(self, *, scenario=None, out=None, sweep=None, calibrate=None, **options):
        try:
            data = scenario_read(scenario) if scenario else {}
            if calibrate:
                fitted, observed = calibrated(*self._period(calibrate))
                Path(out).mkdir(parents=True, exist_ok=True)
                record = {"scenario": fitted, "observations": observed}
                (Path(out) / "calibrated.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
                data = _merged(fitted, data)
            base = scenario_from(data)
        except ScenarioInvalid as exc:
            raise CommandError(f"scenario: {exc}") from exc
        counts, role = self._sweep(sweep)
        started = time.monotonic()
        chosen = counts or [None]
        bar = tqdm(total=len(chosen), desc="simulating", unit="run", disable=len(chosen) < 2)
        try:
            models = simulate_staffing(
                base, role, chosen, progress=lambda done, index: bar.update(max(0, index - bar.n))
            )
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.update(len(chosen) - bar.n)
            bar.close()
        sweep_figures = (
            [(count, summarise(model)) for count, model in zip(chosen, models, strict=True)] if counts else None
        )
        # the report's own run: the sweep's last (most staff), or the one run
        summary = write_report(models[-1], Path(out), sweep=sweep_figures, sweep_role=role)
        lead = summary["lead_time_hours"]
        self.stdout.write(
            f"{summary['consignments']} consignments in {time.monotonic() - started:.1f} s: arrival to decision "
            f"mean {lead['mean']} h, p50 {lead['p50']} h, p95 {lead['p95']} h; "
            f"{summary['decided_within_target'] * 100:.1f} % within {summary['target_hours']:g} h. "
            f"Report: {out}/report.html"
        )

    def _period(self, text: str) -> tuple[datetime.date, datetime.date]:
        match = _PERIOD.match(text)
        try:
            start, end = (datetime.date.fromisoformat(d) for d in match.groups()) if match else (None, None)
        except ValueError:
            start = end = None
        if start is None or start > end:
            raise CommandError("--calibrate: expected FROM..TO, two dates YYYY-MM-DD in order")
        return start, end

    def _sweep(self, sweep: str | None) -> tuple[list[int] | None, str | None]:
        try:
            parsed = sweep_parse(sweep or "", max_runs=100)
        except DomainInvalid as exc:
            raise CommandError(f"--sweep: {' '.join(exc.errors['sweep'])}") from exc
        return (None, None) if parsed is None else (parsed[1], parsed[0])


def _merged(base: dict, override: dict) -> dict:
    """`base` with `override`'s keys, objects merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return merged
