"""The public read-only JSON API under /api/v1/, served by the app's own process.

`app.py` passes `routes()`, `middleware()` and `lifespan` to `st.App`; `asgi()` serves the API
alone (`uvicorn --factory dhu_core.api:asgi`).
"""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from dhu_core.api import readiness
from dhu_core.api.http import ApiMiddleware
from dhu_core.api.routes import NOT_FOUND, ROUTES
from dhu_core.errors import log_failure
from dhu_core.open_data import routes as open_data


def routes() -> list[BaseRoute]:
    """The API's routes with the feeds and open-data files, the catch-all 404 of /api/v1/
    last."""
    return [*ROUTES, *open_data.routes(), NOT_FOUND]


def middleware() -> list[Middleware]:
    """The middleware of /api/v1/ (rate limit, CORS, ETag, errors); other paths pass through."""
    return [Middleware(ApiMiddleware)]


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """Prepare the database before the first request, so a new install answers at once."""
    try:
        await run_in_threadpool(readiness.ensure)
    except Exception as error:
        # The app still starts: its pages say what is wrong, and the API tries again (a 500
        # with an error id) at each request until the database answers.
        log_failure(error)
    # The objects of the loaded libraries and data live as long as the server: keep them out of
    # CPython's full collections, which otherwise add ~60-150 ms to every few requests (the
    # pages do the same at their first visit, dhu_core/ui/shell.py).
    gc.freeze()
    yield


def asgi() -> Starlette:
    """The API alone, without the Streamlit app."""
    return Starlette(routes=routes(), middleware=middleware(), lifespan=lifespan)
