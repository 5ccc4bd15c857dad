"""The HTTP endpoints of the open data: Atom feeds and open-data files under /api/v1/.

Each answers with the right bytes and Content-Type and names the licence; caching headers,
CORS, rate limits and the JSON form of unexpected errors come from the middleware that covers
every /api/v1/ path.
"""

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from dhu_core.api.http import CACHE_CONTROL, error_response, matches
from dhu_core.catalogue import CatalogueQuery
from dhu_core.config import get_settings, public_url
from dhu_core.models import FieldError
from dhu_core.open_data import download, feeds
from dhu_core.open_data.links import Licence, licence

FEEDS = "/api/v1/feeds"
OPEN_DATA = "/api/v1/open-data"


def routes() -> list[Route]:
    """The feed and open-data routes, for the app's route list."""
    return [
        Route(f"{FEEDS}/practices.atom", practices_feed, methods=["GET"]),
        Route(f"{FEEDS}/digests.atom", digests_feed, methods=["GET"]),
        Route(f"{FEEDS}/spotlights.atom", spotlights_feed, methods=["GET"]),
        Route(f"{OPEN_DATA}/practices.csv", practices_csv, methods=["GET"]),
        Route(f"{OPEN_DATA}/practices.json", practices_json, methods=["GET"]),
        Route(f"{OPEN_DATA}/data-dictionary.csv", data_dictionary_csv, methods=["GET"]),
        Route(f"{OPEN_DATA}/data-dictionary.json", data_dictionary_json, methods=["GET"]),
    ]


def practices_feed(request: Request) -> Response:
    """Newly published practices, filtered by the catalogue's URL parameters."""
    params = {name: request.query_params.getlist(name) for name in request.query_params}
    try:
        query = CatalogueQuery.from_params_strictly(params)
    except FieldError as error:
        return bad_parameter(error)
    base, terms = _base_url(request), _licence()
    return _feed(feeds.practices_feed(query, base_url=base, licence=terms), terms)


def digests_feed(request: Request) -> Response:
    """The newest published digests."""
    if problem := _no_parameters(request):
        return problem
    terms = _licence()
    return _feed(feeds.digests_feed(base_url=_base_url(request), licence=terms), terms)


def spotlights_feed(request: Request) -> Response:
    """The practices most recently put in the spotlight."""
    if problem := _no_parameters(request):
        return problem
    terms = _licence()
    return _feed(feeds.spotlights_feed(base_url=_base_url(request), licence=terms), terms)


def practices_csv(request: Request) -> Response:
    """Every listed practice as CSV."""
    return _open_data_file(request, "csv")


def practices_json(request: Request) -> Response:
    """Every listed practice as JSON, with the licence and the data dictionary."""
    return _open_data_file(request, "json")


def data_dictionary_csv(request: Request) -> Response:
    """What each column of the open data holds, as CSV."""
    if problem := _no_parameters(request):
        return problem
    return Response(
        download.data_dictionary_csv(),
        media_type=download.FORMATS["csv"],
        headers=_attachment("dhu-data-dictionary.csv") | _licence().headers(),
    )


def data_dictionary_json(request: Request) -> Response:
    """What each column of the open data holds, as JSON."""
    if problem := _no_parameters(request):
        return problem
    return Response(
        download.data_dictionary_json(),
        media_type=download.FORMATS["json"],
        headers=_licence().headers(),
    )


def bad_parameter(error: FieldError) -> JSONResponse:
    """The answer to a parameter the endpoint does not know, or a value it cannot use."""
    return error_response(400, str(error), field=error.field)


def _open_data_file(request: Request, fmt: str) -> Response:
    if problem := _no_parameters(request):
        return problem
    terms = _licence()
    path = download.open_data_file(fmt, licence=terms)
    # The file's own tag: while a new file is written, the last one is sent, and a client that
    # has it must be told when the new one is there (the API's tag is the data version's).
    cache = {"ETag": f'"{path.stem}"', "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("if-none-match", ""), cache["ETag"]):
        return Response(status_code=304, headers=cache)
    return FileResponse(
        path,
        media_type=download.FORMATS[fmt],
        headers=_attachment(f"{download.FILE_NAME}.{fmt}") | terms.headers() | cache,
    )


def _no_parameters(request: Request) -> JSONResponse | None:
    """A 400 answer when the request has query parameters that this endpoint has none of."""
    for name in request.query_params:
        return bad_parameter(FieldError(name, f"unknown parameter '{name}' (this has none)"))
    return None


def _feed(body: bytes, terms: Licence) -> Response:
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=terms.headers())


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename={name}"}


def _base_url(request: Request) -> str:
    """The app's public address: DHU_PUBLIC_URL, else the one this request reached."""
    return public_url(get_settings(), str(request.base_url))


def _licence() -> Licence:
    return licence(get_settings())
