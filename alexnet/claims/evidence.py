"""Recorded evidence: each claim's experiment run once over its design's seeds, kept in a file.

A claim's verdict should not depend on which CPU a reader happens to run it on. Training is
chaotic: a different rounding in the first step (another CPU, instruction set or thread count)
grows into a seed-sized difference by the last, so three seeds run afresh on each machine give
each machine its own verdict. The remedy is the usual one in experimental science: run the
experiment once, over as many seeds as its power calculation asks (:class:`alexnet.claims.designs.Power`),
record everything it measured, and let the chapters read the record. Then

* :func:`record` runs the claim on its design's seeds and writes ``records/NAME-MODE.json`` beside
  this module: the design and its :func:`fingerprint`, the learning-rate sweep, every seed's value
  per arm with its per-epoch curves, the effect, its 95% interval, the verdict, and provenance
  (commit, date, CPU and kernels, threads, torch, seconds); ``python -m alexnet experiment NAME
  --record`` calls it;
* :func:`load` reads a record back as a :class:`~alexnet.claims.runner.ClaimResult` (its histories hold
  the curves, without trained networks), the same on every machine;
* :func:`check_live` tests a chapter's small live run against the record: every arm's measures and
  the effect must lie inside their prediction intervals (:func:`alexnet.claims.statistics.prediction_interval`),
  with a false-alarm rate of at most one in a thousand for the whole check. A rerun on another CPU
  passes; a broken mechanism (dropout that drops nothing, say) fails.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from alexnet.claims.claim import TUNING_SEED
from alexnet.claims.designs import CLAIMS
from alexnet.claims.fit import History
from alexnet.claims.runner import ClaimResult, run_claim
from alexnet.claims.statistics import paired_effect, prediction_interval, ratio_effect

__all__ = [
    "RECORDS",
    "LIVE_SEED_OFFSET",
    "FALSE_ALARM",
    "record_path",
    "fingerprint",
    "to_record",
    "record",
    "load",
    "live_run",
    "check_live",
    "provenance_line",
]

RECORDS = Path(__file__).with_name("records")  # package data, so that a chapter on Colab finds it too
FORMAT = 1
# A chapter's live run uses seeds no record, probe or tuning run uses (records: 0 ... N-1; probes: 500-504).
LIVE_SEED_OFFSET = 1000
FALSE_ALARM = 1e-3  # the chance that check_live rejects an honest rerun, for the whole check
# The narrowest interval check_live allows, either side: errors are measured on a few hundred images, so one point
# is about their finest step; without it a measure on which every recorded seed agreed (a network that fits its
# 256 training images exactly, error 0) would allow a live run no step at all.
RESOLUTION = 0.01
# the curves a record keeps per seed, and the ones check_live compares (mean of each run's last two values)
CURVES = ("epoch", "eval_epoch", "train_loss", "train_error", "train_eval_error", "val_error", "val_top5_error")
CHECKED = ("train_error", "train_eval_error", "val_error")


def record_path(name: str, full: bool = False) -> Path:
    return RECORDS / f"{name}-{'full' if full else 'quick'}.json"


def fingerprint(name: str, full: bool = False) -> str:
    """A hash of everything a record's numbers depend on by design: the arms, the data's options, the budget,
    the learning rates to try, the seeds (and the power calculation that fixed them), the metric and the
    tuning seed. Prose (the claim's wording, ``why``) is not part of it."""
    if name not in CLAIMS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(CLAIMS)}")
    c = CLAIMS[name]
    parts = {
        "name": c.name,
        "arms": c.arms,
        # the functions by name, written with one leading underscore as the first records wrote them all:
        # making a helper public changes no design
        "build": "_" + c.build.__qualname__.lstrip("_"),
        "data": "_" + c.data.__qualname__.lstrip("_"),
        "measure": "_" + c.measure.__qualname__.lstrip("_"),
        "ratio": c.ratio,
        "larger_is_better": c.larger_is_better,
        "stop_below": c.stop_below,
        "eval_train": c.eval_train,
        "design": dataclasses.asdict(c.design(full)),
        "tuning_seed": TUNING_SEED,
        "mode": "full" if full else "quick",
    }
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "alexnet", ":!alexnet/claims/records"], cwd=root,
                               capture_output=True, text=True, timeout=10)  # the package's code, not the chapters'  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def _provenance(seconds: float) -> dict:
    from alexnet.chapters.mode import cpu_name

    pins = {k: os.environ[k] for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR") if k in os.environ}
    return {
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cpu": cpu_name(),
        "kernels": torch.backends.cpu.get_cpu_capability(),
        "kernel_settings": pins,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "seconds": round(seconds, 1),
    }


def _curves(history: History) -> dict:
    return {key: [round(v, 6) if isinstance(v, float) else v for v in getattr(history, key)] for key in CURVES}


def to_record(result: ClaimResult) -> dict:
    """Everything a chapter states about a claim, as one JSON-ready dict (see the module's docstring)."""
    c, e, full = result.claim, result.effect, result.mode == "full"
    design = c.design(full)
    return {
        "format": FORMAT,
        "experiment": c.name,
        "section": c.section,
        "claim": c.claim,
        "mode": result.mode,
        "fingerprint": fingerprint(c.name, full),
        "design": c.describe(full, seeds=len(result.seeds), seed_offset=result.seeds[0]),
        "power": design.power.to_json() if design.power else None,
        "seeds": result.seeds,
        "metric": c.metric,
        "learning_rates": result.learning_rates,
        "sweep": {arm: {repr(lr): v for lr, v in values.items()} for arm, values in result.sweep.items()},
        "sweep_epochs": {arm: {repr(lr): v for lr, v in values.items()} for arm, values in result.sweep_epochs.items()},
        "arms": result.values,
        "differences": list(e.differences),
        "effect": e.effect,
        "ci95": list(e.ci95),
        "verdict": e.verdict,
        "paper_inside": result.paper_inside(),
        "narrowing": result.narrowing(),
        "curves": {arm: [_curves(h) for h in hs] for arm, hs in result.histories.items()},
        "provenance": result.provenance,
    }


def record(name: str, full: bool = False, log=sys.stderr, path: Path | None = None) -> Path:
    """Run claim ``name`` on its design's seeds and write its record (whole or not at all); returns the path."""
    if name not in CLAIMS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(CLAIMS)}")
    design = CLAIMS[name].design(full)
    if design.power is None or design.seeds != design.power.seeds:
        raise ValueError(f"the {'full' if full else 'quick'} design of {name!r} has no power calculation that fixes its "
                         "seeds (alexnet.claims.designs.Power); a record needs one")  # fmt: skip
    start, commit = time.perf_counter(), _commit()  # the code that runs, not the commit at the end
    result = run_claim(name, full=full, log=log)
    result.provenance = {**_provenance(time.perf_counter() - start), "commit": commit}
    path = Path(path) if path is not None else record_path(name, full)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_record(result), indent=1) + "\n")
    tmp.replace(path)  # a crash leaves the old record, never half of a new one
    return path


def load(name: str, full: bool = False, path: Path | None = None) -> ClaimResult:
    """The recorded result of claim ``name`` (histories carry the curves, not trained networks)."""
    if name not in CLAIMS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(CLAIMS)}")
    path = Path(path) if path is not None else record_path(name, full)
    mode = "full" if full else "quick"
    command = f"python -m alexnet experiment {name} --record{' --full' if full else ''}"
    if not path.is_file():
        raise FileNotFoundError(f"no {mode}-mode record of {name!r} at {path}; `{command}` makes it")
    try:
        saved = json.loads(path.read_text())
        if saved.get("format") != FORMAT:
            raise ValueError(f"format {saved.get('format')!r}, expected {FORMAT}")
        claim = CLAIMS[name]
        values = {arm: [float(v) for v in vs] for arm, vs in saved["arms"].items()}
        mech, base = values[claim.mechanism], values[claim.baseline]
        effect = ratio_effect(mech, base) if claim.ratio else paired_effect(mech, base, claim.larger_is_better)
        histories = {arm: [History(name=arm, **curve) for curve in curves] for arm, curves in saved["curves"].items()}
        result = ClaimResult(
            claim, saved["mode"], [int(s) for s in saved["seeds"]], values, effect,
            {arm: float(lr) for arm, lr in saved["learning_rates"].items()}, saved["provenance"]["seconds"],
            histories,
            {arm: {float(lr): v for lr, v in vs.items()} for arm, vs in saved["sweep"].items()},
            {arm: {float(lr): v for lr, v in vs.items()} for arm, vs in saved["sweep_epochs"].items()},
            provenance=saved["provenance"],
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a readable record of {name!r} ({err}); `{command}` makes it anew") from None
    if not math.isclose(effect.effect, saved["effect"], rel_tol=1e-9, abs_tol=1e-12):
        raise ValueError(
            f"{path}: its effect {saved['effect']} does not follow from its values; `{command}` makes it anew"
        )
    result.fingerprint = saved["fingerprint"]
    return result


def provenance_line(result: ClaimResult) -> str:
    """Where and how a record was made, in one line (the same on every machine that reads it)."""
    p = result.provenance
    device = p["cpu"] if p["device"] == "cpu" else p["device"]
    return (
        f"recorded {p['date']} at commit {p['commit'][:10]}{' (uncommitted changes)' if 'uncommitted' in p['commit'] else ''} "
        f"on {device}, {p['kernels']} kernels, {p['threads']} thread{'' if p['threads'] == 1 else 's'}, torch {p['torch']}: "
        f"{len(result.seeds)} seeds "
        f"in {p['seconds'] / 60:.1f} minutes"
    )


def live_run(
    name: str, full: bool = False, seeds: int = 2, seed_offset: int = LIVE_SEED_OFFSET, log=None
) -> ClaimResult:
    """The claim run afresh on a few seeds no record uses: at the learning rates of its record at this
    scale where one exists (no sweep), otherwise with the design's own sweep."""
    rates = load(name, full).learning_rates if record_path(name, full).is_file() else None
    return run_claim(name, seeds=seeds, seed_offset=seed_offset, full=full, log=log, learning_rates=rates)


def _measures(result: ClaimResult) -> dict[str, list[float]]:
    """Per seed: every arm's metric and its curves' last two values (mean), and the paired effect (log scale for a ratio)."""
    c = result.claim
    out: dict[str, list[float]] = {}
    for arm, values in result.values.items():
        # A time to a target is skewed: on live seed 1001 the ReLU net started slowly and needed 4.25 epochs where
        # the record's ten took 1.86-2.58, and on the linear scale that one seed failed the check. Its logarithm
        # is nearer normal, and the claim itself is averaged on that scale.
        if c.ratio:
            out[f"{arm}: {c.metric} (log)"] = [math.log(v) for v in values]
        else:
            out[f"{arm}: {c.metric}"] = list(values)
        for key in CHECKED:
            runs = [getattr(h, key)[-2:] for h in result.histories.get(arm, [])]
            if runs and all(runs):
                out[f"{arm}: {key.replace('_', ' ')} (last two)"] = [sum(r) / len(r) for r in runs]
    if c.ratio:
        out["effect (log ratio)"] = [math.log1p(d) for d in result.effect.differences]
    else:
        out["effect"] = list(result.effect.differences)
    return out


def check_live(recorded: ClaimResult, live: ClaimResult, false_alarm: float = FALSE_ALARM) -> str:
    """Assert that ``live`` is a run of the same experiment as ``recorded``; returns one line that says so.

    Each measure (every arm's metric and the last two values of its training and validation curves,
    and the effect) of the live run, averaged over its k seeds, must lie inside the prediction interval
    of a k-seed mean computed from the record's seeds. The false-alarm rate is split evenly over the
    measures (Bonferroni), so an honest rerun, on any CPU, fails with probability at most
    ``false_alarm``. The line is the same on every machine; the numbers are in the error when it fails.
    """
    if live.claim.name != recorded.claim.name:
        raise ValueError(f"a run of {live.claim.name!r} is not comparable with a record of {recorded.claim.name!r}")
    if live.mode != recorded.mode:  # e.g. a GPU's full-mode run beside the quick record: different experiments
        return f"not compared: the live run is at {live.mode} scale, the record at {recorded.mode} scale"
    if set(live.seeds) & set(recorded.seeds):
        raise ValueError(f"the live run's seeds {live.seeds} overlap the record's; use seeds it does not have")
    before, now = _measures(recorded), _measures(live)
    common = [m for m in before if m in now]
    each = false_alarm / len(common)
    k = len(live.seeds)
    wrong = []
    for m in common:
        low, high = prediction_interval(before[m], k, each)
        middle = sum(before[m]) / len(before[m])
        low, high = min(low, middle - RESOLUTION), max(high, middle + RESOLUTION)
        value = sum(now[m]) / k
        if not low - 1e-9 <= value <= high + 1e-9:
            wrong.append(f"{m}: {value:.4g} outside [{low:.4g}, {high:.4g}]")
    if wrong:
        raise AssertionError(
            f"the live run (seeds {live.seeds}) is not consistent with the record of {len(recorded.seeds)} seeds: "
            + "; ".join(wrong)
        )
    return (
        f"live run consistent with the record: on seeds {live.seeds[0]}-{live.seeds[-1]}, each of {len(common)} "
        f"measures (every arm's {recorded.claim.metric.split(',')[0]}, training and validation error, and the "
        f"effect) lies inside its prediction interval from the {len(recorded.seeds)} recorded seeds "
        f"(false-alarm rate {false_alarm:g} for the whole check)"
    )
