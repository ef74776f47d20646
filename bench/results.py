"""Benchmark results files: bench/results/<date>-<commit>-<kind>.json, with the commit, the machine and
the settings they were measured with; every figure as value, unit, baseline and ratio."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def figure(value: float, unit: str, baseline: float | None = None) -> dict:
    """One figure; the ratio is value / baseline when a baseline is given."""
    ratio = round(value / baseline, 4) if baseline else None
    return {"value": value, "unit": unit, "baseline": baseline, "ratio": ratio}


def commit() -> str:
    """HEAD's short hash, with "+changes" when tracked files differ from it (the figures are not HEAD's)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=RESULTS_DIR.parent,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=RESULTS_DIR.parent,
                                 capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "unknown"
    return (head + ("+changes" if changed else "")) or "unknown"


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu_model": model, "load_average": [round(x, 2) for x in os.getloadavg()],
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def write_results(kind: str, settings: dict, figures: dict[str, dict], directory: Path = RESULTS_DIR) -> Path:
    """Write the file and return its path."""
    now = dt.datetime.now(dt.timezone.utc)
    sha = commit()
    document = {"kind": kind, "measured_at": now.isoformat(timespec="seconds"), "commit": sha, "machine": machine(),
                "settings": settings, "figures": figures}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{now:%Y-%m-%d}-{sha}-{kind}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path
