"""What a run answers, as people want to see it: `summary.json` (the figures), plots (SVG) and `report.html`."""

import json
from pathlib import Path

import numpy as np
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from inspection.roles import STEP_ROLES

from .model import PostModel


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "p50": 0.0, "p95": 0.0}
    array = np.asarray(values)
    return {
        "mean": round(float(array.mean()), 3),
        "p50": round(float(np.percentile(array, 50)), 3),
        "p95": round(float(np.percentile(array, 95)), 3),
    }


def summarise(model: PostModel) -> dict:
    """The figures of one run. Lead time: from the goods' arrival to the decision (0 when decided before they
    arrive, on documents alone); waits: from the moment a step could start to the moment a person starts it;
    utilisation: the hours a role worked within the period over the hours its staff are on duty (above 1: tasks
    finished after closing time)."""
    scenario = model.scenario
    decided = [g for g in model.goods if g.decided_at is not None]
    lead = [max(0.0, g.decided_at - g.arrival) for g in decided]
    open_hours = model.calendar.open_hours(scenario.days)
    utilisation = {
        role: round(model.busy[role] / (n * open_hours), 3) if open_hours else 0.0 for role, n in scenario.staff.items()
    }
    steps = {}
    for node in model.graph.values():
        if node.kind != "task" or node.name not in model.waits:
            continue
        stats = _stats(model.waits[node.name])
        steps[node.name] = {
            "count": len(model.waits[node.name]),
            "mean_wait_hours": stats["mean"],
            "p50_wait_hours": stats["p50"],
            "p95_wait_hours": stats["p95"],
            "utilisation": utilisation[STEP_ROLES[node.step]],
        }
    lead_stats = _stats(lead)
    return {
        "consignments": len(model.goods),
        "decided": len(decided),
        "lead_time_hours": lead_stats,
        "decided_within_target": round(sum(h <= scenario.target_hours for h in lead) / len(lead), 3) if lead else 0.0,
        "target_hours": scenario.target_hours,
        "steps": steps,
        "utilisation": utilisation,
        "staff": dict(scenario.staff),
        "days": scenario.days,
        "seed": scenario.seed,
    }


def _plots(model: PostModel, sweep: list[tuple[int, dict]] | None, sweep_role: str | None, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = []

    def save(figure, name):
        figure.tight_layout()
        figure.savefig(out / name, format="svg")
        pyplot.close(figure)
        names.append(name)

    figure, axes = pyplot.subplots(figsize=(8, 4))
    for step, waits in model.waits.items():
        if waits:
            axes.hist(waits, bins=40, histtype="step", label=step)
    axes.set_xlabel(_("waiting time (hours)"))
    axes.set_ylabel(_("tasks"))
    axes.set_yscale("log")
    axes.legend(fontsize=8)
    save(figure, "waits.svg")

    figure, axes = pyplot.subplots(figsize=(8, 3))
    for role, samples in model.queue_samples.items():
        daily = np.asarray(samples[: len(samples) // 24 * 24]).reshape(-1, 24).max(axis=1) if samples else []
        axes.plot(daily, label=role)
    axes.set_xlabel(_("day"))
    axes.set_ylabel(_("tasks waiting (daily maximum)"))
    axes.legend(fontsize=8)
    save(figure, "queues.svg")

    figure, axes = pyplot.subplots(figsize=(5, 3))
    summary = summarise(model)
    roles = list(summary["utilisation"])
    axes.bar(roles, [summary["utilisation"][r] * 100 for r in roles])
    axes.set_ylabel(_("utilisation (%)"))
    save(figure, "utilisation.svg")

    if sweep:
        figure, axes = pyplot.subplots(figsize=(6, 4))
        counts = [n for n, _s in sweep]
        for key, label in (("p50", _("median")), ("p95", _("95th percentile"))):
            axes.plot(counts, [s["lead_time_hours"][key] for _n, s in sweep], marker="o", label=label)
        axes.set_xlabel(_("%(role)s on duty") % {"role": sweep_role})
        axes.set_ylabel(_("arrival to decision (hours)"))
        axes.set_xticks(counts)
        axes.set_yscale("log")  # too few staff: weeks of backlog beside hours
        axes.legend()
        save(figure, "sweep.svg")
    return names


def write_report(model: PostModel, out: Path, *, sweep=None, sweep_role=None) -> dict:
    """Write `summary.json`, the plots and `report.html` into `out` (made if missing); return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(model)
    if sweep:
        summary["sweep"] = {"role": sweep_role, "runs": [{"on_duty": n, **s} for n, s in sweep]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    plots = _plots(model, sweep, sweep_role, out)
    html = render_to_string(
        "simulation/report.html", {"summary": summary, "scenario": model.scenario, "plots": plots, "sweep": sweep}
    )
    (out / "report.html").write_text(html, encoding="utf-8")
    return summary
