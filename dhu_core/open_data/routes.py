"""The HTTP endpoints of the open data: Atom feeds and open-data files under /api/v1/.

Each answers with the right bytes and Content-Type and names the licence; caching headers,
CORS, rate limits and the JSON form of unexpected errors come from the middleware that covers
every /api/v1/ path.
"""

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from dhu_core.api import parameters
from dhu_core.api.http import CACHE_CONTROL, endpoint, matches, public_base
from dhu_core.catalogue import CatalogueQuery
from dhu_core.config import get_settings
from dhu_core.models import FieldError
from dhu_core.open_data import download, feeds
from dhu_core.open_data.links import Licence, licence
from dhu_core.params import InvalidParameter

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


@endpoint
def practices_feed(request: Request) -> Response:
    """Newly published practices, filtered by the catalogue's URL parameters."""
    # A RADAR address, as it is: codes in any letter case, or labels, as the page takes them.
    params = {name: request.query_params.getlist(name) for name in request.query_params}
    try:
        query = CatalogueQuery.from_params_strictly(params)
    except FieldError as error:
        raise InvalidParameter(error.field, str(error)) from None
    base, terms = public_base(request), _licence()
    return _feed(feeds.practices_feed(query, base_url=base, licence=terms), terms)


@endpoint
def digests_feed(request: Request) -> Response:
    """The newest published digests."""
    parameters.read(request, ())
    terms = _licence()
    return _feed(feeds.digests_feed(base_url=public_base(request), licence=terms), terms)


@endpoint
def spotlights_feed(request: Request) -> Response:
    """The practices most recently put in the spotlight."""
    parameters.read(request, ())
    terms = _licence()
    return _feed(feeds.spotlights_feed(base_url=public_base(request), licence=terms), terms)


@endpoint
def practices_csv(request: Request) -> Response:
    """Every listed practice as CSV."""
    return _open_data_file(request, "csv")


@endpoint
def practices_json(request: Request) -> Response:
    """Every listed practice as JSON, with the licence and the data dictionary."""
    return _open_data_file(request, "json")


@endpoint
def data_dictionary_csv(request: Request) -> Response:
    """What each column of the open data holds, as CSV."""
    parameters.read(request, ())
    return Response(
        download.data_dictionary_csv(),
        media_type=download.FORMATS["csv"],
        headers=_attachment("dhu-data-dictionary.csv") | _licence().headers(),
    )


@endpoint
def data_dictionary_json(request: Request) -> Response:
    """What each column of the open data holds, as JSON."""
    parameters.read(request, ())
    return Response(
        download.data_dictionary_json(),
        media_type=download.FORMATS["json"],
        headers=_licence().headers(),
    )


def _open_data_file(request: Request, fmt: str) -> Response:
    parameters.read(request, ())
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


def _feed(body: bytes, terms: Licence) -> Response:
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=terms.headers())


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename={name}"}


def _licence() -> Licence:
    return licence(get_settings())
