"""The classic teaching example, as the seed explainer shows it: the raw-style baseline."""


class SimpleASGIApp:
    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/plain")],
                }
            )
            await send({"type": "http.response.body", "body": b"Hello, ASGI world!"})


app = SimpleASGIApp()
