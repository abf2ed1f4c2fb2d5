"""`python -m demo`: serve the app with Uvicorn, configured from the environment."""

from __future__ import annotations

import copy
import sys
from typing import Any

import uvicorn

from demo import server
from demo.settings import Settings, SettingsError

# An import string, not the object: with several workers each process imports it itself.
APP = "demo.app:app"


# One line per record with time, level and logger: readable in `docker logs` and easy to parse.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS_FORMAT = (
    '%(asctime)s %(levelname)s %(name)s %(client_addr)s "%(request_line)s" %(status_code)s'
)


def log_config(level: str) -> dict[str, Any]:
    """Uvicorn's logging setup with plain, structured lines, and the app's own logger."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["default"].update(fmt=LOG_FORMAT, use_colors=False)
    config["formatters"]["access"].update(fmt=ACCESS_FORMAT, use_colors=False)
    config["loggers"]["demo"] = {
        "handlers": ["default"],
        "level": level.upper() if level != "trace" else "DEBUG",
        "propagate": False,
    }
    return config


def server_options(settings: Settings) -> dict[str, Any]:
    """Uvicorn's options for these settings."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_level),
        "access_log": settings.access_log,
        "proxy_headers": settings.proxy_headers,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "root_path": settings.root_path,
        # Seconds as given: 0.5 stays 0.5 (Uvicorn accepts fractions).
        "timeout_keep_alive": settings.timeout_keep_alive,
        "timeout_graceful_shutdown": settings.timeout_graceful_shutdown,
        "limit_concurrency": settings.limit_concurrency,
        # h11, not httptools ("auto"): httptools accepts a request head of any size (a 2 MB
        # header was answered 200, a never-ending one was buffered in memory); h11 answers
        # 400 and closes once the head passes MAX_HEADER_SIZE. See the README's deployment notes.
        "http": "h11",
        "h11_max_incomplete_event_size": settings.max_header_size,
        "loop": "auto",
        # wsproto, not Uvicorn's default (websockets-sansio): that one answers a close frame
        # sent between the fragments of a message with 1002 instead of 1000 (Autobahn 7.1.5)
        # and logs an ERROR traceback for every text frame that is not valid UTF-8. See README.
        "ws": "wsproto",
        "lifespan": "on",
    }


def load_settings() -> Settings:
    """The settings, or one line on stderr naming the bad variable and exit code 2."""
    try:
        return Settings.from_env()
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def main() -> None:
    settings = load_settings()
    # On SIGTERM the server drains for DRAIN_SECONDS (/readyz answers 503 while requests
    # are still served), then stops accepting, lets in-flight requests finish (up to the
    # graceful-shutdown timeout) and runs lifespan shutdown: see server.py.
    config = uvicorn.Config(APP, **server_options(settings))
    server.serve(config, settings.workers, settings.drain_seconds)


if __name__ == "__main__":
    main()
