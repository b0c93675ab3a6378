"""The FastAPI app: /ws/live (read-only, no token), the control API (token), and the pages.

Every mutating endpoint needs the session's control token, as ``Authorization: Bearer TOKEN``
(compared in constant time), goes through the hub's loop and is journaled before it answers.
A refused action (wrong moment, bad argument) answers 409 or 422 with one line and changes
nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, WebSocket
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from display import STATIC
from hub.core import Hub, HubFailure
from hub.live import live_part, part
from hub.model import PollMode
from hub.proposals import ProposalError, parse_proposals
from hub.roster import RosterError, parse_roster, roster_json
from hub.session import Poll, PollState, SessionConfig, SessionError
from hub.web.broadcast import Broadcaster

MODES = {"grades": PollMode.GRADES, "consent": PollMode.CONSENT, "self-paced": PollMode.SELF_PACED}


class OpenPoll(BaseModel):
    mode: Literal["grades", "consent", "self-paced"] = "grades"
    items: list[int] | None = Field(None, description="Proposal numbers (self-paced polls; else the one up)")
    countdown_s: float | None = Field(
        None, description="A countdown shown on the projector (it closes nothing)"
    )


class Upload(BaseModel):
    text: str = Field(..., description="The file's contents")
    format: Literal["csv", "json"] = "csv"


class Reset(BaseModel):
    reason: str = Field(..., min_length=1, description="Why the poll is reset (journaled)")


def _poll_json(poll: Poll) -> dict[str, Any]:
    return {
        "poll_id": poll.poll_id,
        "mode": poll.mode.name.lower().replace("_", "-"),
        "state": str(poll.state),
        "items": list(poll.items),
    }


def _draw(ranking, fmt: str) -> bytes:
    from hub.report.charts import merit_profile, ranking_chart, render

    fig = merit_profile(ranking, 0)[0] if len(ranking.entries) == 1 else ranking_chart(ranking)[0]
    return render(fig, fmt)


def create_app(
    hub: Hub,
    token: str,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """The app around a hub. With ``on_start``/``on_stop`` (``clicker serve``), the app's
    lifespan starts the hub (journal replay, receivers) before serving and stops it after."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if on_start is not None:
            await on_start()
        try:
            yield
        finally:
            if on_stop is not None:
                await on_stop()

    app = FastAPI(
        title="clicker hub",
        description="Live state and control of a majority-judgment session.",
        lifespan=lifespan,
    )
    broadcaster = Broadcaster()
    hub.subscribe(broadcaster.publish)  # a subscription, not a start: the hub publishes once running
    app.state.broadcaster = broadcaster

    def require_token(authorization: str = Header("", description="Bearer CONTROL_TOKEN")) -> None:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong control token")

    async def act(action: dict[str, Any]) -> Any:
        try:
            return await hub.act(action)
        except SessionError as exc:
            raise HTTPException(409, str(exc)) from None
        except HubFailure as exc:  # the journal could not be written: nothing was applied
            raise HTTPException(503, f"hub stopped: {exc}") from None

    @app.get("/api/state", summary="The live part of the state (the open or last poll, receivers)")
    async def state() -> JSONResponse:
        return JSONResponse(live_part(hub.snapshot()))

    @app.get("/api/state/{name}", summary="A part of the state (session or history) with its revision")
    async def state_part(name: Literal["session", "history"]) -> JSONResponse:
        return JSONResponse(part(hub.snapshot(), name))

    @app.post("/api/polls/open", dependencies=[Depends(require_token)], summary="Open a poll")
    async def open_poll(body: OpenPoll) -> dict[str, Any]:
        action: dict[str, Any] = {"action": "open", "mode": int(MODES[body.mode])}
        if body.items is not None:
            action["items"] = body.items
        if body.countdown_s is not None:
            action["countdown_s"] = body.countdown_s
        return _poll_json(await act(action))

    @app.post(
        "/api/polls/close", dependencies=[Depends(require_token)], summary="Close the open poll (grace)"
    )
    async def close_poll() -> dict[str, Any]:
        return _poll_json(await act({"action": "close"}))

    @app.post("/api/polls/{poll_id}/reveal", dependencies=[Depends(require_token)], summary="Reveal a poll")
    async def reveal(poll_id: int) -> dict[str, Any]:
        return _poll_json(await act({"action": "reveal", "poll_id": poll_id}))

    @app.post("/api/polls/{poll_id}/reset", dependencies=[Depends(require_token)], summary="Reset a poll")
    async def reset(poll_id: int, body: Reset) -> dict[str, Any]:
        return _poll_json(await act({"action": "reset", "poll_id": poll_id, "reason": body.reason}))

    @app.post(
        "/api/proposals/{number}/select", dependencies=[Depends(require_token)], summary="Put up a proposal"
    )
    async def select(number: int) -> dict[str, Any]:
        await act({"action": "select", "proposal": number})
        return {"current": number}

    @app.post("/api/proposals/next", dependencies=[Depends(require_token)], summary="Next proposal")
    async def next_proposal() -> dict[str, Any]:
        return {"current": await act({"action": "step", "delta": 1})}

    @app.post("/api/proposals/previous", dependencies=[Depends(require_token)], summary="Previous proposal")
    async def previous_proposal() -> dict[str, Any]:
        return {"current": await act({"action": "step", "delta": -1})}

    @app.post("/api/session/proposals", dependencies=[Depends(require_token)], summary="Import the fiches")
    async def load_proposals(body: Upload) -> dict[str, Any]:
        try:
            proposals = parse_proposals(body.text, body.format, "fiches")
        except ProposalError as exc:
            raise HTTPException(422, str(exc)) from None
        rows = SessionConfig(title="-", proposals=proposals).to_json()["proposals"]
        await act({"action": "load_proposals", "proposals": rows})
        return {"proposals": len(rows)}

    @app.post("/api/session/roster", dependencies=[Depends(require_token)], summary="Import the roster")
    async def load_roster(body: Upload) -> dict[str, Any]:
        if body.format != "json":
            raise HTTPException(422, "a roster is a JSON file")
        try:
            keypads = parse_roster(json.loads(body.text), "roster")
        except json.JSONDecodeError as exc:
            raise HTTPException(422, f"roster: not JSON: {exc.msg} at line {exc.lineno}") from None
        except RosterError as exc:
            raise HTTPException(422, str(exc)) from None
        await act({"action": "load_roster", "roster": roster_json(keypads)["keypads"]})
        return {"keypads": len(keypads)}

    @app.get("/api/polls/{poll_id}/chart.{fmt}", summary="A poll's merit profile as SVG or PNG (for slides)")
    async def chart(poll_id: int, fmt: Literal["svg", "png"]) -> Response:
        try:
            poll = hub.session.poll(poll_id)
        except SessionError as exc:
            raise HTTPException(404, str(exc)) from None
        if poll.mode is PollMode.CONSENT or poll.state not in (PollState.CLOSED, PollState.REVEALED):
            raise HTTPException(409, f"poll {poll_id} has no result to draw yet")
        ranking = hub.session.poll_ranking(poll)
        # matplotlib runs in a worker thread, never in the loop
        data = await asyncio.get_running_loop().run_in_executor(None, _draw, ranking, fmt)
        return Response(data, media_type="image/svg+xml" if fmt == "svg" else "image/png")

    @app.websocket("/ws/live")
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        await broadcaster.serve(ws, hub.snapshot())

    @app.get("/", include_in_schema=False)
    async def projector() -> FileResponse:
        return FileResponse(STATIC / "projector.html")

    @app.get("/console", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
