"""The FastAPI app: /ws/live (read-only, no token), the control API (token), and the pages.

Every mutating endpoint needs the session's control token, as ``Authorization: Bearer TOKEN``
(compared in constant time, by the door before the body is read: hub/web/door.py), goes through
the hub's loop and is journaled before it answers. A refused action (wrong moment, bad
argument) answers 409 or 422 with one line and changes nothing; no input answers 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, WebSocket
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from display import STATIC
from hub.commands import (
    ClosePoll,
    Command,
    LoadProposals,
    LoadRoster,
    OpenPoll,
    ResetPoll,
    Reveal,
    Select,
    Show,
    Step,
)
from hub.engine import ActionPending, Engine, HubBusy, HubFailure
from hub.errors import ClickerError, named, single_line
from hub.imports import InputError
from hub.live import live_part, part
from hub.model import PollMode
from hub.proposals import parse_proposals
from hub.results import poll_results
from hub.roster import parse_roster_file
from hub.session import Poll, PollState, SessionError
from hub.tally import Ranking
from hub.web.broadcast import Broadcaster
from hub.web.door import Door, HostPolicy, token_ok, validation_detail

MODES = {"grades": PollMode.GRADES, "consent": PollMode.CONSENT, "self-paced": PollMode.SELF_PACED}


class OpenRequest(BaseModel):
    mode: Literal["grades", "consent", "self-paced"] = "grades"
    items: list[int] | None = Field(None, description="Proposal numbers (self-paced polls; else the one up)")
    countdown_s: float | None = Field(None, description="A countdown shown on the projector")
    countdown_close: bool = Field(False, description="Close the poll when the countdown reaches zero")


class DisplayRequest(BaseModel):
    view: Literal["auto", "ranking"] = Field("auto", description="The poll (auto) or the ranking")
    assembly: str = Field("", description='"" the plenary, an assembly\'s name, or "*" every assembly')


class Refused(ClickerError):
    """A facilitator action the session refused: 409 with the line, its code and parameters."""

    def __init__(self, exc: SessionError) -> None:
        super().__init__(str(exc))
        self.exc = exc


class ResetRequest(BaseModel):
    reason: str = Field(..., min_length=1, max_length=500, description="Why the poll is reset (journaled)")


def _file_body(media: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI: the request body is the file itself, as the console's file picker sends it."""
    return {"requestBody": {"required": True, "content": media}}


CSV_OR_JSON = {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {}}}
FILE_NAME = Query("fiches", max_length=200, description="The file's name, for messages")


def _format_of(fmt: str | None, content_type: str, name: str) -> str:
    if fmt is not None:
        return fmt
    if "json" in content_type or name.lower().endswith(".json"):
        return "json"
    return "csv"


def _poll_json(poll: Poll) -> dict[str, Any]:
    return {
        "poll_id": poll.poll_id,
        "mode": poll.mode.name.lower().replace("_", "-"),
        "state": str(poll.state),
        "items": list(poll.items),
        "countdown_close": poll.countdown_close,
    }


def _draw(ranking: Ranking, fmt: str) -> bytes:
    from hub.report.charts import merit_profile, ranking_chart, render

    fig = merit_profile(ranking, 0)[0] if len(ranking.entries) == 1 else ranking_chart(ranking)[0]
    return render(fig, fmt)


def create_app(
    hub: Engine,
    token: str,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    hosts: HostPolicy | None = None,
) -> FastAPI:
    """The app around a hub. With ``on_start``/``on_stop`` (``clicker serve``), the app's
    lifespan starts the hub (journal replay, receivers) before serving and stops it after.
    ``hosts``: the Host names it answers to (default: the loopback names only)."""

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
    # Host, token and size are decided from the headers, before the body is read.
    app.add_middleware(Door, token=token, hosts=hosts or HostPolicy())
    broadcaster = Broadcaster()
    hub.subscribe(broadcaster.publish)  # a subscription, not a start: the hub publishes once running
    app.state.broadcaster = broadcaster

    @app.exception_handler(StarletteHTTPException)
    async def one_line_detail(request: Request, exc: StarletteHTTPException) -> Response:
        """Every refusal's detail is one bounded line, whatever input it quotes."""
        if isinstance(exc.detail, str):
            exc.detail = single_line(exc.detail)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def one_line_422(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)

    def has_token(authorization: str) -> bool:
        return token_ok(authorization, token)

    def require_token(authorization: str = Header("", description="Bearer CONTROL_TOKEN")) -> None:
        if not has_token(authorization):
            raise HTTPException(401, "missing or wrong control token")

    def result_poll(poll_id: int, authorization: str) -> Poll:
        """A poll whose result may be shown to this caller: revealed, or closed with the token."""
        try:
            poll = hub.session.poll(poll_id)
        except SessionError as exc:
            raise HTTPException(404, str(exc)) from None
        if poll.state is PollState.REVEALED:
            return poll
        if poll.state is PollState.CLOSED:
            if has_token(authorization):
                return poll
            raise HTTPException(401, f"poll {poll_id} is not revealed: its result needs the control token")
        raise HTTPException(409, f"poll {poll_id} is {poll.state}: it has no result to show")

    @app.exception_handler(Refused)
    async def refused(_request: Any, err: Refused) -> JSONResponse:
        exc = err.exc
        return JSONResponse({"detail": str(exc), "code": exc.code, "params": exc.params}, status_code=409)

    async def act(command: Command) -> Any:
        """A command through the hub's loop. Never a 500: 409 refused (nothing changed), 503 not
        applied (busy: try again; or the hub stopped), 504 applied but not yet confirmed."""
        try:
            return await hub.act(command)
        except SessionError as exc:
            raise Refused(exc) from None
        except HubBusy as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
        except HubFailure as exc:  # the journal could not be written: nothing was applied
            raise HTTPException(503, f"hub stopped: {exc}") from None
        except ActionPending as exc:
            raise HTTPException(504, f"{exc}: check the state before repeating it") from None

    @app.get("/api/state", summary="The live part of the state (the open or last poll, receivers)")
    async def state() -> JSONResponse:
        return JSONResponse(live_part(hub.snapshot()))

    @app.get("/api/state/{name}", summary="A part of the state (session or history) with its revision")
    async def state_part(name: Literal["session", "history"]) -> JSONResponse:
        return JSONResponse(part(hub.snapshot(), name))

    @app.post("/api/polls/open", dependencies=[Depends(require_token)], summary="Open a poll")
    async def open_poll(body: OpenRequest) -> dict[str, Any]:
        items = tuple(body.items) if body.items is not None else None
        command = OpenPoll(MODES[body.mode], items, body.countdown_s, body.countdown_close)
        return _poll_json(await act(command))

    @app.post(
        "/api/polls/close", dependencies=[Depends(require_token)], summary="Close the open poll (grace)"
    )
    async def close_poll() -> dict[str, Any]:
        return _poll_json(await act(ClosePoll()))

    @app.post("/api/polls/{poll_id}/reveal", dependencies=[Depends(require_token)], summary="Reveal a poll")
    async def reveal(poll_id: int) -> dict[str, Any]:
        return _poll_json(await act(Reveal(poll_id)))

    @app.post("/api/polls/{poll_id}/reset", dependencies=[Depends(require_token)], summary="Reset a poll")
    async def reset(poll_id: int, body: ResetRequest) -> dict[str, Any]:
        return _poll_json(await act(ResetPoll(poll_id, body.reason)))

    @app.post(
        "/api/proposals/{number}/select", dependencies=[Depends(require_token)], summary="Put up a proposal"
    )
    async def select(number: int) -> dict[str, Any]:
        await act(Select(number))
        return {"current": number}

    @app.post(
        "/api/display", dependencies=[Depends(require_token)], summary="Choose what the projector shows"
    )
    async def display(body: DisplayRequest) -> dict[str, str]:
        await act(Show(body.view, body.assembly))
        return dict(hub.session.display)

    @app.post("/api/proposals/next", dependencies=[Depends(require_token)], summary="Next proposal")
    async def next_proposal() -> dict[str, Any]:
        return {"current": await act(Step(1))}

    @app.post("/api/proposals/previous", dependencies=[Depends(require_token)], summary="Previous proposal")
    async def previous_proposal() -> dict[str, Any]:
        return {"current": await act(Step(-1))}

    async def imported(parse: Callable[[], Any]) -> Any:
        """A file parsed in a worker thread: the loop keeps answering presses meanwhile."""
        try:
            return await asyncio.to_thread(parse)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.post(
        "/api/session/proposals",
        dependencies=[Depends(require_token)],
        summary="Import the fiches (the body is the CSV or JSON file)",
        openapi_extra=_file_body(CSV_OR_JSON),
    )
    async def load_proposals(
        request: Request,
        format: Literal["csv", "json"] | None = Query(None, description="Default: from the type or name"),
        name: str = FILE_NAME,
    ) -> dict[str, Any]:
        data = await request.body()
        fmt = _format_of(format, request.headers.get("content-type", ""), name)
        proposals = await imported(lambda: parse_proposals(data, fmt, name))
        await act(LoadProposals(tuple(proposals)))
        return {"proposals": len(proposals)}

    @app.post(
        "/api/session/roster",
        dependencies=[Depends(require_token)],
        summary="Import the roster (the body is the JSON file)",
        openapi_extra=_file_body({"application/json": {"schema": {}}}),
    )
    async def load_roster(
        request: Request, name: str = Query("roster", max_length=200, description="The file's name")
    ) -> dict[str, Any]:
        data = await request.body()
        if name.lower().endswith(".csv") or "csv" in request.headers.get("content-type", ""):
            raise HTTPException(422, f"{named(name)}: a roster is a JSON file")
        keypads = await imported(lambda: parse_roster_file(data, name))
        await act(LoadRoster(tuple(keypads)))
        return {"keypads": len(keypads)}

    @app.get(
        "/api/polls/{poll_id}/result",
        summary="A closed or revealed poll's result (the console's preview before revealing)",
    )
    async def result(
        poll_id: int, authorization: str = Header("", description="Bearer CONTROL_TOKEN")
    ) -> dict[str, Any]:
        if not has_token(authorization):
            raise HTTPException(401, "missing or wrong control token")
        return poll_results(hub.session, result_poll(poll_id, authorization))

    @app.get(
        "/api/polls/{poll_id}/chart.{fmt}",
        summary="A revealed poll's merit profile as SVG or PNG (for slides); a closed one with the token",
    )
    async def chart(
        poll_id: int,
        fmt: Literal["svg", "png"],
        authorization: str = Header("", description="Bearer CONTROL_TOKEN (before the reveal)"),
    ) -> Response:
        poll = result_poll(poll_id, authorization)
        if poll.mode is PollMode.CONSENT:
            raise HTTPException(409, f"poll {poll_id} is a consent round: it has no merit profile")
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
