"""A Starlette app with the routed style's routes plus N extra ones: the routed baseline."""

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


async def home(request: Request) -> Response:
    return PlainTextResponse("Hello, ASGI world!")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def item(request: Request) -> Response:
    return JSONResponse({"item_id": request.path_params["item_id"]})


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type=request.headers.get("content-type"))


ROUTES = int(os.environ.get("BENCH_ROUTES", "5"))
routes = [
    Route("/", home),
    Route("/health", health),
    Route("/echo", echo, methods=["POST"]),
    Route("/items/{item_id}", item),
]
routes += [Route(f"/extra{i}/{{item_id}}", item) for i in range(ROUTES - 5)]
routes.append(Route("/last/{item_id}", item))  # the route the benchmark requests
app = Starlette(routes=routes)
