"""The public read-only JSON API under /api/v1/, served by the app's own process.

`app.py` passes `routes()`, `middleware()` and `lifespan` to `st.App`; `asgi()` serves the API
alone (`uvicorn --factory dhu_core.api:asgi`).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from dhu_core.api import readiness
from dhu_core.api.http import ApiMiddleware
from dhu_core.api.routes import NOT_FOUND, ROUTES


def routes() -> list[BaseRoute]:
    """The API's routes, the catch-all 404 of /api/v1/ last."""
    return [*ROUTES, NOT_FOUND]


def middleware() -> list[Middleware]:
    """The middleware of /api/v1/ (rate limit, CORS, ETag, errors); other paths pass through."""
    return [Middleware(ApiMiddleware)]


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """Prepare the database before the first request, so a new install answers at once."""
    await run_in_threadpool(readiness.ensure)
    yield


def asgi() -> Starlette:
    """The API alone, without the Streamlit app."""
    return Starlette(routes=routes(), middleware=middleware(), lifespan=lifespan)
