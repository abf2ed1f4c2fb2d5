"""A bare FastAPI app serving the same endpoint from an included APIRouter.

Against it the generated app's ratio is the scaffold's own cost (its middleware and settings),
without FastAPI's price for dispatching through an included router, which the bare app with its
route on the app itself does not pay.
"""

from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse

router = APIRouter()


@router.get("/", response_class=PlainTextResponse)
async def home() -> str:
    return "Hello, ASGI world!"


app = FastAPI()
app.include_router(router)
