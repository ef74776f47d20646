"""The service benchmark's smoke mode, so that `make bench` cannot rot: it must start the real service,
drive every phase with wrk and write every figure, with no 5xx anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.service_bench import Config, expected_figures
from tests.conftest import REPO_ROOT


def test_smoke_run_writes_every_figure_without_server_errors(server_url: str, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/service_bench.py", "--smoke", "--results-dir", str(tmp_path)],
        # as `make bench` runs it: from a shell without SB_ENV (the test process itself runs in development)
        cwd=REPO_ROOT, env={**{k: v for k, v in os.environ.items() if k != "SB_ENV"},
                            "DATABASE_URL": server_url, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    [written] = list(tmp_path.glob("*-service-smoke.json"))
    results = json.loads(written.read_text())
    assert results["commit"] and results["machine"]["cores"] >= 1
    for name in expected_figures(Config.smoke_run()):
        assert name in results["figures"], f"figure {name} missing"
        assert results["figures"][name]["value"] > 0, f"figure {name} is not a measurement"
    assert results["figures"]["unit_update_rps"]["ratio"] is not None
    for phase, outcome in results["settings"]["phase_results"].items():
        server_errors = {code: n for code, n in outcome.get("statuses", {}).items() if code.startswith("5")}
        assert not server_errors, f"{phase} answered {server_errors}"
