"""The plenary's web app: the same projector and console pages as a room hub, a view selector
(``?channel=total|<room>|paper|online`` on ``/ws/live`` and ``/api/state``), and the control API
of the votation's channels.

Reading is open (the state carries only what a room's projector shows); entering a paper
sheet, confirming it as a guarantor and importing an online file need the plenary's control
token, go through the plenary's loop and are journaled before they answer. A refused entry
answers 422 with one line and changes nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from display import STATIC
from hub.federation.channels import ChannelError, parse_online
from hub.federation.convention import CONFIRM, ONLINE, PAPER, SHEET, TOTAL, PlenaryError
from hub.federation.plenary import Plenary
from hub.live import live_part, part
from hub.web.broadcast import Broadcaster
from hub.web.door import Door, HostPolicy, token_ok, validation_detail


class PaperSheet(BaseModel):
    batch: str = Field(..., description="The sheet's name: the stand and the sheet number")
    by: str = Field(..., description="Who enters it")
    ballots: int = Field(..., ge=0, description="Paper ballots counted on this sheet")
    tallies: dict[str, list[int]] = Field(..., description="Fiche number -> counts per grade, worst first")
    reason: str = Field("", description="Why this entry corrects the previous one")


class Confirmation(BaseModel):
    batch: str
    version: int = Field(..., ge=1)
    guarantor: str = Field(..., description="The guarantor's name (journaled)")


def create_plenary_app(plenary: Plenary, token: str, hosts: HostPolicy | None = None) -> FastAPI:
    """The app around a started plenary; the hub's door (Host, token, size) checks every request
    before a body byte is read."""
    app = FastAPI(title="clicker plenary", description="The convention's combined results.")
    app.add_middleware(Door, token=token, hosts=hosts or HostPolicy())
    broadcasters: dict[str, Broadcaster] = {}

    @app.exception_handler(RequestValidationError)
    async def one_line_422(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)

    def broadcaster(view: str) -> Broadcaster:
        if view not in broadcasters:
            broadcasters[view] = Broadcaster()
            plenary.subscribe(view, broadcasters[view].publish)
        return broadcasters[view]

    def check_view(view: str) -> str:
        if plenary.conv is None or view not in plenary.conv.views():
            raise HTTPException(404, f"no view {view!r}")
        return view

    def require_token(authorization: str = Header("", description="Bearer CONTROL_TOKEN")) -> None:
        if not token_ok(authorization, token):
            raise HTTPException(401, "missing or wrong control token")

    async def act(kind: str, body: dict[str, Any]) -> Any:
        try:
            return await plenary.act(kind, body)
        except PlenaryError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.get("/api/state", summary="One view's live part (with the plenary's rooms and alarms)")
    async def state(view: str = Query(TOTAL, alias="channel")) -> JSONResponse:
        return JSONResponse(live_part(plenary.snapshot(check_view(view))))

    @app.get("/api/state/{name}", summary="A part of one view's state (session, history, votation)")
    async def state_part(
        name: Literal["session", "history", "votation"], view: str = Query(TOTAL, alias="channel")
    ) -> JSONResponse:
        return JSONResponse(part(plenary.snapshot(check_view(view)), name))

    @app.post("/api/paper", dependencies=[Depends(require_token)], summary="Enter or correct a paper sheet")
    async def paper(body: PaperSheet) -> dict[str, Any]:
        done = await act(SHEET, {"channel": PAPER, **body.model_dump()})
        return {"batch": done["batch"], "version": len(plenary.conv.paper.batches[done["batch"]])}  # type: ignore[union-attr]

    @app.post("/api/paper/confirm", dependencies=[Depends(require_token)], summary="A guarantor confirms")
    async def confirm(body: Confirmation) -> dict[str, Any]:
        await act(CONFIRM, {"channel": PAPER, **body.model_dump()})
        version = plenary.conv.paper.batches[body.batch][body.version - 1]  # type: ignore[union-attr]
        return {"batch": body.batch, "version": body.version, "guarantors": version.guarantors}

    @app.post("/api/online", dependencies=[Depends(require_token)], summary="Import an online channel's file")
    async def online(
        request: Request,
        name: str = Query(..., description="The file's name"),
        format: Literal["csv", "json"] = Query("csv"),
        by: str = Query(..., description="Who imports it"),
        batch: str = Query("online", description="The import's name; the same name again corrects it"),
        reason: str = Query(""),
        ballots: int | None = Query(None, ge=0),
    ) -> dict[str, Any]:
        data = await request.body()  # the door has bounded it
        if plenary.conv is None:
            raise HTTPException(503, "the plenary is starting")
        try:
            parsed = parse_online(data, format, name, plenary.conv.config.session.scale, ballots)
        except ChannelError as exc:
            raise HTTPException(422, str(exc)) from None
        done = await act(SHEET, {"channel": ONLINE, "batch": batch, "by": by, "reason": reason, **parsed})
        return {"batch": batch, "ballots": done["ballots"], "source": done["source"]}

    @app.websocket("/ws/live")
    async def live(ws: WebSocket, view: str = Query(TOTAL, alias="channel")) -> None:
        if plenary.conv is None or view not in plenary.conv.views():
            await ws.close(code=4404)
            return
        await ws.accept()
        await broadcaster(view).serve(ws, plenary.snapshot(view))

    @app.get("/", include_in_schema=False)
    async def projector() -> FileResponse:
        return FileResponse(STATIC / "projector.html")

    @app.get("/console", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
