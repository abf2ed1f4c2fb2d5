"""The generated fastapi app minus its HTTPRulesMiddleware: against the app itself, what that
layer costs on a request that needs none of its work (a GET with no body)."""

from bench_api.app import create_app
from bench_api.middleware import HTTPRulesMiddleware

app = create_app()
# Starlette builds the middleware stack on the first request, from this list.
app.user_middleware = [m for m in app.user_middleware if m.cls is not HTTPRulesMiddleware]
