"""The addresses open data point at: pages of the app, and the licence of the data."""

from dataclasses import dataclass
from urllib.parse import quote

from dhu_core.config import Settings


def practice_url(base_url: str, practice_id: int) -> str:
    """The page of a practice in the app."""
    return f"{base_url}/radar?practice={practice_id}"


def digest_url(base_url: str, digest_id: int) -> str:
    """The page of a digest in the app (the knowledge page opened on it)."""
    return f"{base_url}/knowledge?digest={digest_id}"


@dataclass(frozen=True)
class Licence:
    """The licence the operator publishes the open data under (DHU_DATA_LICENCE)."""

    name: str
    url: str

    def headers(self) -> dict[str, str]:
        """HTTP headers naming the licence: a `Link` to its text (RFC 8288, relation "license"
        from RFC 4946), when the operator gave its address."""
        if not self.url:
            return {}
        # A header is Latin-1: the name goes as an RFC 8187 extended value, whatever it holds.
        title = f"title*=UTF-8''{quote(self.name, safe='')}"
        target = quote(self.url, safe=":/?#[]@!$&()*+,;=%~")
        return {"Link": f'<{target}>; rel="license"; {title}'}


def licence(settings: Settings) -> Licence:
    """The open data's licence from the settings."""
    return Licence(name=settings.dhu_data_licence, url=settings.dhu_data_licence_url)
