"""The capacity simulator (`python manage.py simulate`): it follows the real flow, agrees with queueing theory
where theory has an answer, and refuses a scenario it cannot run with a message naming the key."""

import dataclasses
import json
import math

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from workflows.engine.graph import flow_graph
from workflows.flows import InspectionFlow
from workflows.simulation import ScenarioInvalid, SimulationError, scenario_from, simulate
from workflows.simulation.model import Catalogue, PostModel
from workflows.simulation.report import summarise

pytestmark = pytest.mark.django_db

# around the clock, every day: the conditions under which Erlang's formula holds
ALWAYS_OPEN = {
    "opening_hours": "00:00-24:00",
    "arrivals": {"hours": "00:00-24:00", "working_days_only": False},
    "prenotification_hours": 0,
}
# nothing but a documentary check and a decision
DOCUMENTS_ONLY = {
    "check_rates": {"identity": 0, "physical": 0},
    "shares": {
        "documentary_unsatisfactory": 0,
        "identity_unsatisfactory": 0,
        "physical_unsatisfactory": 0,
        "sampled": 0,
        "lab_unfavourable": 0,
        "channelled": 0,
    },
}


def erlang_c_wait(arrivals_per_hour: float, service_hours: float, servers: int) -> float:
    """The mean wait in queue of an M/M/c queue (Erlang C)."""
    load = arrivals_per_hour * service_hours
    rho = load / servers
    top = load**servers / math.factorial(servers) / (1 - rho)
    waiting = top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)
    return waiting * service_hours / (servers * (1 - rho))


@pytest.mark.parametrize(("inspectors", "per_day"), [(1, 14.4), (2, 33.6), (3, 52.8)])
def test_documentary_check_waits_agree_with_erlang_c(inspectors, per_day):
    """Poisson arrivals and exponential service around the clock: the mean wait for a documentary check is
    Erlang C's, within three standard errors of independent replications (utilisation 0.6 to 0.73)."""
    means = []
    for seed in range(5):
        scenario = scenario_from(
            {
                **ALWAYS_OPEN,
                **DOCUMENTS_ONLY,
                "days": 80,
                "seed": seed,
                "arrivals": {**ALWAYS_OPEN["arrivals"], "per_day": per_day},
                "staff": {"inspector": inspectors},
                "service_minutes": {"documentary_check": {"mean": 60, "distribution": "exponential"}},
            }
        )
        means.append(summarise(simulate(scenario))["steps"]["documentary_check"]["mean_wait_hours"])
    expected = erlang_c_wait(per_day / 24, 1.0, inspectors)
    error = np.std(means, ddof=1) / math.sqrt(len(means))
    assert abs(np.mean(means) - expected) <= 3 * error + 0.01, (means, expected)


def _run(**overrides):
    return summarise(simulate(scenario_from({"days": 30, **overrides})))


def test_the_checks_follow_the_flow_and_the_rates():
    every = _run(check_rates={"identity": 100, "physical": 100}, shares=DOCUMENTS_ONLY["shares"])
    steps = every["steps"]
    assert steps["documentary_check"]["count"] == steps["identity_check"]["count"] == every["consignments"]
    assert steps["physical_check"]["count"] == every["consignments"]
    none = _run(**DOCUMENTS_ONLY)
    assert "identity_check" not in none["steps"] and "physical_check" not in none["steps"]
    assert none["steps"]["decide"]["count"] == none["consignments"]
    assert "countersign" not in none["steps"] and "follow_up" not in none["steps"]


def test_a_physical_check_brings_the_identity_check_with_it():
    summary = _run(check_rates={"identity": 0, "physical": 100}, shares=DOCUMENTS_ONLY["shares"])
    assert summary["steps"]["identity_check"]["count"] == summary["steps"]["physical_check"]["count"] > 0


def test_unsatisfactory_documents_are_refused_countersigned_and_followed_up():
    summary = _run(shares={"documentary_unsatisfactory": 1})
    steps = summary["steps"]
    assert "identity_check" not in steps and "physical_check" not in steps
    assert steps["countersign"]["count"] == steps["follow_up"]["count"] == summary["consignments"]


def test_goods_are_checked_only_once_they_arrive():
    scenario = scenario_from(
        {"days": 20, "prenotification_hours": 72, "check_rates": {"identity": 100, "physical": 100}}
    )
    model = simulate(scenario)
    assert model.goods
    assert all(g.started["identity_check"] >= g.arrival - 1e-9 for g in model.goods if "identity_check" in g.started)
    # the documentary check may start at pre-notification, before the goods arrive
    assert any(g.started["documentary_check"] < g.arrival for g in model.goods)


def test_detained_samples_wait_for_the_lab_before_the_decision():
    fast = _run(
        check_rates={"identity": 100, "physical": 100},
        shares={"sampled": 1, "detained": 1},
        lab_turnaround_hours={"mean": 1, "distribution": "fixed"},
    )
    slow = _run(
        check_rates={"identity": 100, "physical": 100},
        shares={"sampled": 1, "detained": 1},
        lab_turnaround_hours={"mean": 200, "distribution": "fixed"},
    )
    assert slow["lead_time_hours"]["p50"] >= fast["lead_time_hours"]["p50"] + 190


def test_a_gateway_the_simulator_cannot_decide_stops_it_with_its_name():
    graph = flow_graph(InspectionFlow)
    node = graph["is_refused"]
    then, otherwise = node.branches
    graph["is_refused"] = dataclasses.replace(
        node, branches=(dataclasses.replace(then, condition="is_full_moon"), otherwise)
    )
    scenario = scenario_from({"days": 1})
    with pytest.raises(SimulationError, match="is_full_moon"):
        PostModel(scenario, graph, Catalogue(scenario, [("CHED-P", "0302", 50, 10)]))


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"dayz": 3}, "dayz"),
        ({"days": 0}, "days"),
        ({"days": "many"}, "days"),
        ({"opening_hours": "19:00-07:00"}, "opening_hours"),
        ({"arrivals": {"per_day": -1}}, "arrivals.per_day"),
        ({"arrivals": {"mix": {"CHED-P": 0}}}, "arrivals.mix"),
        ({"staff": {"pilot": 2}}, "staff.pilot"),
        ({"service_minutes": {"decision": {"mean": 5, "distribution": "gamma"}}}, "service_minutes.decision"),
        ({"shares": {"sampled": 2}}, "shares.sampled"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_key(data, named):
    with pytest.raises(ScenarioInvalid, match=named.replace(".", r"\.")):
        scenario_from(data)


def test_an_unknown_commodity_in_the_mix_is_refused():
    with pytest.raises(SimulationError, match="CHED-Z"):
        simulate(scenario_from({"days": 1, "arrivals": {"mix": {"CHED-Z": 1}}}))


def test_the_command_writes_the_summary_the_plots_and_the_report(tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"days": 20, "arrivals": {"per_day": 15, "mix": {"CHED-P": 2, "0804": 1}}}))
    out = tmp_path / "out"
    call_command("simulate", scenario=str(scenario), out=str(out), sweep="inspector=1..3")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["consignments"] > 200 and summary["decided"] == summary["consignments"]
    assert set(summary["lead_time_hours"]) == {"mean", "p50", "p95"}
    assert {"mean_wait_hours", "p50_wait_hours", "p95_wait_hours", "utilisation"} <= set(
        summary["steps"]["documentary_check"]
    )
    runs = summary["sweep"]["runs"]
    assert [run["on_duty"] for run in runs] == [1, 2, 3]
    assert [run["staff"]["inspector"] for run in runs] == [1, 2, 3]
    assert runs[-1]["lead_time_hours"]["p95"] <= runs[0]["lead_time_hours"]["p95"]
    for name in ("report.html", "waits.svg", "queues.svg", "utilisation.svg", "sweep.svg"):
        assert (out / name).stat().st_size > 0, name
    assert "sweep.svg" in (out / "report.html").read_text()


def test_the_command_refuses_a_bad_scenario_or_sweep_with_a_message(tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text("{not json")
    with pytest.raises(CommandError, match="scenario"):
        call_command("simulate", scenario=str(scenario), out=str(tmp_path))
    with pytest.raises(CommandError, match="--sweep"):
        call_command("simulate", out=str(tmp_path), sweep="astronaut=1..3")


def test_calibration_fits_the_scenario_to_the_post_history(tmp_path):
    """The demo's history (consignments walked through the real flow) gives the arrival rate and mix, step
    times and shares; the run that follows uses them, and a figure seen too rarely keeps its default."""
    import datetime
    import os

    from django.utils import timezone

    call_command("demo", consignments=12, force=True, stdout=open(os.devnull, "w"))
    today = timezone.localdate()
    period = f"{today - datetime.timedelta(days=30)}..{today}"
    out = tmp_path / "calibrated"
    call_command("simulate", out=str(out), calibrate=period, stdout=open(os.devnull, "w"))
    record = json.loads((out / "calibrated.json").read_text())
    fitted, observed = record["scenario"], record["observations"]
    assert observed["submissions"] >= 5
    assert fitted["arrivals"]["per_day"] > 0 and sum(fitted["arrivals"]["mix"].values()) == observed["submissions"]
    assert observed["service_minutes.documentary_check"] >= 5
    assert fitted["service_minutes"]["documentary_check"]["mean"] > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["consignments"] > 0
    with pytest.raises(CommandError, match="--calibrate"):
        call_command("simulate", out=str(out), calibrate="2026-12-31..2026-01-01")


def _page_client(user):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_a_supervisor_runs_a_simulation_from_the_page_and_reads_its_report(
    supervisor, django_capture_on_commit_callbacks
):
    from inspection.models import AuditAction, AuditEvent
    from workflows.models import SimulationRun
    from workflows.tasks import simulation_run

    client = _page_client(supervisor)
    assert "Run the simulation" in client.get("/supervision/simulations/").content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/supervision/simulations/", {"scenario": json.dumps({"days": 20}), "sweep": "inspector=1..2"}
        )
    run = SimulationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/supervision/simulations/{run.pk}/"
    assert run.status == "queued" and run.requested_by == supervisor
    assert AuditEvent.objects.filter(action=AuditAction.SIMULATION_REQUESTED, actor=supervisor).count() == 1
    waiting = client.get(f"/supervision/simulations/{run.pk}/").content.decode()
    assert "<progress" in waiting and 'http-equiv="refresh"' in waiting

    assert simulation_run.run(run.pk) is True
    assert simulation_run.run(run.pk) is False  # a second delivery runs nothing
    run.refresh_from_db()
    assert run.status == "done" and run.progress == 100 and run.summary["consignments"] > 0
    assert {"report.html", "summary.json", "sweep.svg"} <= set(run.files)
    page = client.get(f"/supervision/simulations/{run.pk}/").content.decode()
    assert "<progress" not in page and f"/supervision/simulations/{run.pk}/files/sweep.svg" in page
    plot = client.get(f"/supervision/simulations/{run.pk}/files/sweep.svg")
    assert plot.status_code == 200 and plot["Content-Type"] == "image/svg+xml" and plot["Content-Security-Policy"]
    assert client.get(f"/supervision/simulations/{run.pk}/files/..%2F..%2Fsettings.py").status_code == 404
    assert client.get(f"/supervision/simulations/{run.pk}/files/other.svg").status_code == 404


@pytest.mark.parametrize(
    ("scenario", "sweep", "message"),
    [
        ("{not json", "", "Not valid JSON"),
        ("[1, 2]", "", "JSON object"),
        ('{"days": -3}', "", "days"),
        ('{"days": 3}', "pilot=1..3", "ROLE=LOW..HIGH"),
        ('{"days": 3}', "inspector=1..50", "runs"),
    ],
)
def test_a_bad_scenario_on_the_page_is_refused_with_its_message(supervisor, scenario, sweep, message):
    from workflows.models import SimulationRun

    response = _page_client(supervisor).post("/supervision/simulations/", {"scenario": scenario, "sweep": sweep})
    assert response.status_code == 400 and message in response.content.decode()
    assert not SimulationRun.objects.exists()


def test_only_supervisors_see_the_simulations(importer, inspector):
    assert _page_client(importer).get("/supervision/simulations/").status_code == 404
    assert _page_client(inspector).get("/supervision/simulations/").status_code == 403
    response = _page_client(inspector).post("/supervision/simulations/", {"scenario": "{}"})
    assert response.status_code == 403


def test_a_failed_run_shows_its_error(supervisor):
    from workflows.models import SimulationRun
    from workflows.tasks import simulation_run

    run = SimulationRun.objects.create(
        requested_by=supervisor, scenario={"days": 2, "arrivals": {"mix": {"CHED-Z": 1}}}
    )
    simulation_run.run(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "CHED-Z" in run.error
    assert "CHED-Z" in _page_client(supervisor).get(f"/supervision/simulations/{run.pk}/").content.decode()


def test_seasons_batches_and_a_role_on_its_own_hours():
    quiet = {"days": 28, "start": "2027-01-04", "arrivals": {"per_day": 10}}
    base = _run(**quiet)
    busy = _run(**{**quiet, "arrivals": {"per_day": 10, "seasonality": {"1": 3}}})
    assert busy["consignments"] > 2 * base["consignments"]
    # a ship every Tuesday at 07:00 with 30 consignments, besides the daily arrivals
    ship = simulate(
        scenario_from(
            {**quiet, "arrivals": {"per_day": 1, "batches": [{"weekdays": [1], "time": "07:00", "per_call": 30}]}}
        )
    )
    at_seven = [g for g in ship.goods if abs(g.arrival % 24 - 7) < 1e-9]
    assert len(at_seven) > 4 * 20 and all(int(g.arrival // 24) % 7 == 1 for g in at_seven)
    # the certifying officer works 13:00-15:00 only: no decision is started outside those hours
    late = simulate(scenario_from({**quiet, "staff_hours": {"certifying_officer": "13:00-15:00"}}))
    starts = [g.started["decide"] % 24 for g in late.goods if "decide" in g.started]
    assert starts and all(13 - 1e-9 <= hour < 15 for hour in starts)


@pytest.mark.parametrize(
    ("arrivals", "named"),
    [
        ({"seasonality": {"13": 2}}, "arrivals.seasonality.13"),
        ({"batches": [{"weekdays": [7], "time": "07:00", "per_call": 3}]}, "arrivals.batches.0.weekdays"),
        ({"batches": [{"weekdays": [1], "time": "25:00", "per_call": 3}]}, "arrivals.batches.0.time"),
    ],
)
def test_bad_seasons_and_batches_are_refused_naming_the_key(arrivals, named):
    with pytest.raises(ScenarioInvalid, match=named.replace(".", r"\.")):
        scenario_from({"arrivals": arrivals})


def test_a_run_whose_worker_died_can_be_sent_again_once(supervisor, django_capture_on_commit_callbacks):
    import datetime

    from django.utils import timezone

    from workflows.models import SimulationRun
    from workflows.tasks import simulation_run

    started = timezone.now() - datetime.timedelta(hours=1)
    run = SimulationRun.objects.create(
        requested_by=supervisor, scenario={"days": 5}, status="running", progress=40, started_at=started
    )
    client = _page_client(supervisor)
    assert "probably stopped" in client.get(f"/supervision/simulations/{run.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        client.post(f"/supervision/simulations/{run.pk}/send/")
        client.post(f"/supervision/simulations/{run.pk}/send/")  # a second click: already queued, sent again
    run.refresh_from_db()
    assert run.status == "queued" and run.progress == 0 and len(sent) == 2
    assert simulation_run.run(run.pk) is True and simulation_run.run(run.pk) is False
    # a run that started a minute ago is not taken for dead
    young = SimulationRun.objects.create(
        requested_by=supervisor, scenario={"days": 5}, status="running", started_at=timezone.now()
    )
    client.post(f"/supervision/simulations/{young.pk}/send/")
    young.refresh_from_db()
    assert young.status == "running"
