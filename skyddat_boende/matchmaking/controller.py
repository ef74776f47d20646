"""An operations trigger for the national batch (it also runs on its interval)."""

from __future__ import annotations

from litestar import Controller, Request, post

from skyddat_boende import audit
from skyddat_boende.access import actor_of, secured
from skyddat_boende.matchmaking.batch import BatchReport, run_batch
from skyddat_boende.problems import Conflict, problem_responses


class BatchController(Controller):
    tags = ["operations"]

    @post("/batch", status_code=200, summary="Run the national matching batch now",
          description="For an operations client with scope batch:run. 409 if another process is running it.",
          responses=problem_responses(401, 403, 409, 429), **secured(scopes=["batch:run"]))
    async def run_batch_now(self, request: Request) -> BatchReport:
        state = request.app.state
        report = await run_batch(state.pool, state.settings, state.places, "api")
        if report is None:
            raise Conflict("The batch is running in another process; try again when it has finished.")
        async with state.pool.acquire() as conn:
            await audit.record(conn, actor_of(request.user), "api.run_batch_now", "batch", str(report.run_id),
                               "succeeded")
        return report
