"""A bare FastAPI app serving the same endpoint: the fastapi-style baseline."""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
async def home() -> str:
    return "Hello, ASGI world!"
