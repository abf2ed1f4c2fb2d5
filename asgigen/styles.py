"""The registry of project styles: the one place that knows what each style is."""

from __future__ import annotations

from dataclasses import dataclass

from asgigen.errors import BadInputError


@dataclass(frozen=True)
class Style:
    name: str
    summary: str
    # Demo paths every live boot requests, beyond `/` and `/health`.
    extra_paths: tuple[str, ...] = ()


STYLES: dict[str, Style] = {
    style.name: style
    for style in (
        Style("raw", "a bare ASGI application class: http, websocket and lifespan by hand"),
        Style(
            "routed",
            "raw ASGI plus a small dependency-free router, mounts and middleware",
            extra_paths=("/items/42",),
        ),
        Style(
            "fastapi",
            "a FastAPI service: app factory, routers, settings, real Uvicorn config",
            extra_paths=("/items/42",),
        ),
    )
}


def get_style(name: str) -> Style:
    """The style called `name`, or a BadInputError listing the known ones."""
    try:
        return STYLES[name]
    except KeyError:
        known = ", ".join(STYLES)
        raise BadInputError(
            f"unknown style {name!r}", hint=f"choose one of: {known} (see `asgigen styles`)"
        ) from None
