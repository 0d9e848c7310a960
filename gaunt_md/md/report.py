"""OUT/report.md: verdict, protocol, the table, per-run details and the figures."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from .summary import markdown_table


def verdict(summary: dict) -> str:
    name = summary["system"]["name"]
    lines = []
    for t in summary["temperatures"]:
        if t.get("runs_interrupted") and not t["failures"]:
            done = t["runs"] - t["runs_interrupted"]
            lines.append(f"- **{t['temperature_K']:g} K: interrupted** — {t['runs_interrupted']} of {t['runs']} runs "
                         f"stopped by Ctrl-C before their end; the {done} that finished stayed physical.")
        elif t["runs_stable"] == t["runs"]:
            lines.append(f"- **{t['temperature_K']:g} K: stable** — all {t['runs']} runs stayed physical for "
                         f"{t['run_length_ps']:g} ps (max bond deviation {t['bond_deviation_max_A']:.3f} A).")
        else:
            kinds = ", ".join(f"{k} x{n}" for k, n in t["failures"].items())
            stopped = f", {t['runs_interrupted']} interrupted" if t.get("runs_interrupted") else ""
            lines.append(f"- **{t['temperature_K']:g} K: unstable** — {sum(t['failures'].values())} of {t['runs']} "
                         f"runs failed ({kinds}{stopped}); first failure after {t['time_to_failure_ps_min']:.3f} ps.")
    if summary.get("interrupted"):
        failed = sum(sum(t["failures"].values()) for t in summary["temperatures"])
        stopped = sum(t.get("runs_interrupted", 0) for t in summary["temperatures"])
        head = (f"**Interrupted** (Ctrl-C): {stopped} run(s) stopped before their end (marked interrupted, "
                f"not counted as failures), {len(summary.get('runs_not_started', []))} never started; "
                f"{failed} of the runs that finished failed.  This is the record of what ran, not a full result.")
    else:
        head = (f"The potential kept {name} physical in every run." if summary["all_stable"]
                else f"The potential did **not** keep {name} physical in every run.")
    return head + "\n\n" + "\n".join(lines)


def write_report(summary: dict, figures: Dict[str, str], path: Path) -> None:
    path = Path(path)
    p, s = summary["protocol"], summary["system"]
    c = p["criteria"]
    drift_note = ("total-energy drift from a linear fit over each run (up to failure)" if p["ensemble"] == "nve"
                  else "no energy drift: Langevin dynamics does not conserve the total energy (use --ensemble nve)")
    integrator = (f"Langevin NVT (friction {p['friction_per_fs']:g} /fs)" if p["ensemble"] == "nvt"
                  else "velocity Verlet NVE")
    out = [
        f"# MD stability of {s['name']} ({s['formula']}, {s['n_atoms']} atoms)",
        "",
        verdict(summary),
        "",
        "## Protocol",
        "",
        f"- model: `{p['model']}`; engine `{summary['engine']}` on `{p['device']}`",
        f"- {integrator}, time step {p['timestep_fs']:g} fs, {p['n_steps']} steps "
        f"({p['time_ps']:g} ps) per run, {p['runs']} runs per temperature, seed {p['seed']}",
        f"- start: {s['start']}; Maxwell-Boltzmann velocities at the target temperature "
        "(no centre-of-mass motion or rotation)",
        f"- a run fails at the first step where a bond deviates more than {c['max_bond_deviation']:g} A from its "
        f"starting length, an H is farther than {c['h_detach_distance']:g} A from every heavy atom, a bond forms "
        f"(pair closer than {c['bond_mult']:g} x the sum of covalent radii), or energy / forces are not finite "
        "(criteria after Fu et al. 2022, *Forces are not enough*)",
        f"- {drift_note}",
        "",
        "## Results",
        "",
        markdown_table(summary),
        "",
        "TTF: time to failure; a stable run counts with its full length (`>=`: no run failed, a lower bound). "
        "Bond dev: largest |d - d0| over the bonds at each step, averaged over time (mean) or its maximum "
        "over all runs (max).",
        "",
        "## Runs",
        "",
        "| T (K) | run | start | stable | TTF (ps) | failure | T mean (K) | bond dev max (A) | ms/step |",
        "|---:|---:|---|---|---:|---|---:|---:|---:|",
    ]
    for t in summary["temperatures"]:
        for r in t["run_details"]:
            failure = "-" if r["failure"] is None else f"{r['failure']['kind']} at step {r['failure']['step']}: {r['failure']['detail']}"
            fmt = lambda v, f: "-" if v is None else format(v, f)
            out.append(
                f"| {t['temperature_K']:g} | {r['run']} | {r['start']} | {'interrupted' if r.get('interrupted') else 'yes' if r['stable'] else 'no'} | "
                f"{r['time_to_failure_ps']:.3f} | {failure} | {fmt(r['temperature_mean_K'], '.0f')} | "
                f"{fmt(r['bond_deviation_max_A'], '.3f')} | {fmt(r['ms_per_step'], '.1f')} |"
            )
    out += ["", "## Figures", ""]
    titles = {"temperature_energy": "Temperature and potential energy", "bond_deviation": "Max bond deviation",
              "bond_lengths": "Bond-length distributions"}
    for key, fig in figures.items():
        out += [f"### {titles.get(key, key)}", "", f"![{key}]({Path(fig).name})", ""]
    path.write_text("\n".join(out))
