"""A FastAPI app written by hand in the generated app's shape: the fastapi-style scaffold's
reference for its own cost.

Same shape: the service's own routes (`/`, `/health`) on the app itself, first, `/` returning
its `PlainTextResponse` directly; then one `APIRouter` per feature, included in the app (items:
`GET /items/{item_id}`; echo: `POST /echo`; ws: `/ws`), with `redirect_slashes=False`. Same
work on every request: two plain ASGI middlewares, as a careful hand would write them, with
the generated app's rules: an `x-request-id` on every response (the caller's if it is safe,
else 128 random bits), outermost, and behind it a 413 for a body declared over 1 MiB
(`content-length`), bodies without a declared length counted as they arrive, and HEAD served
by the GET route without body bytes. What it leaves out is only what a hand-written app would
not need: settings read from the environment, the lifespan, and the 405 handler that names
every allowed method.
"""

import re
from collections.abc import Awaitable
from random import getrandbits

from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LIMIT = 1024 * 1024
SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")


async def home() -> PlainTextResponse:
    return PlainTextResponse("Hello, ASGI world!")


async def health() -> dict[str, str]:
    return {"status": "ok"}


echo = APIRouter()


@echo.post("/echo")
async def echo_body(request: Request) -> Response:
    content_type = request.headers.get("content-type", "application/octet-stream")
    return Response(await request.body(), media_type=content_type)


items = APIRouter()


@items.get("/items/{item_id}")
async def read_item(item_id: str) -> dict[str, str]:
    return {"item_id": item_id}


ws = APIRouter()


@ws.websocket("/ws")
async def websocket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                if SAFE_ID.fullmatch(value):
                    request_id = value
                break
        if request_id is None:
            request_id = getrandbits(128).to_bytes(16).hex().encode()

        def send_with_id(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            return send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitAndHead:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        chunked = False
        for key, value in scope["headers"]:
            if key == b"content-length":
                declared = value
            elif key == b"transfer-encoding":
                chunked = True
        if declared is not None and declared.isdigit() and int(declared) > LIMIT:
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if chunked or (declared is None and scope.get("http_version") not in ("1.1", "1.0")):
            received = 0
            inner = receive

            async def receive() -> Message:
                nonlocal received
                message = await inner()
                received += len(message.get("body", b""))
                if received > LIMIT:
                    raise HTTPException(413)
                return message

        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
            inner_send = send

            def send(message: Message) -> Awaitable[None]:
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                return inner_send(message)

        await self.app(scope, receive, send)


app = FastAPI(redirect_slashes=False)
app.add_api_route("/", home, response_class=PlainTextResponse)
app.add_api_route("/health", health)
for router in (items, echo, ws):
    app.include_router(router)
app.add_middleware(BodyLimitAndHead)
app.add_middleware(RequestId)
