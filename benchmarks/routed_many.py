"""The generated routed app with N routes: the demo ones, extras, and `/last/{item_id}`."""

import os

from bench_routed.app import App, item
from bench_routed.routing import Route

ROUTES = int(os.environ.get("BENCH_ROUTES", "5"))
app = App()
for index in range(ROUTES - 5):
    app.router.add(Route(f"/extra{index}/{{item_id}}", item))
app.router.add(Route("/last/{item_id}", item))
