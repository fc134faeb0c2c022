"""Live relays: an item whose content is a stream (VOV, the provincial station) that stations play for a window.

The server never fetches the stream, stations do, so its address is checked for form only: an absolute
``http``/``https`` URL with a host, no user name or password (it goes out to every station in the manifest),
no spaces. A stream on the province's own network (a private address) is normal here, so the outbound guard's
refusal of private addresses, which protects the server's own requests, does not apply.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from stations.manifest.checks import STREAM_URL

MAX_URL = 1000
MIN_WINDOW_S = 10
MAX_WINDOW_S = 12 * 3600


def check_stream_url(url: object) -> str:
    """The stream URL, trimmed; :class:`InvalidInput` (field ``stream_url``) saying what is wrong."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise InvalidInput(_l("Give the address of the stream to relay (http:// or https://)."), field="stream_url")
    if len(text) > MAX_URL:
        raise InvalidInput(_l("A stream address has at most %(n)s characters.", n=MAX_URL), field="stream_url")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(_l("The stream address has a bad port."), field="stream_url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(_l("A stream address starts with http:// or https:// (Icecast or HLS .m3u8), not "
                              "%(scheme)s.", scheme=parts.scheme or "—"), field="stream_url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(_l("Do not put a user name or password in the stream address: every station "
                              "receives it."), field="stream_url")
    if not parts.hostname or port == 0:
        raise InvalidInput(_l("The stream address has no host."), field="stream_url")
    if not STREAM_URL.fullmatch(text):
        raise InvalidInput(_l("The stream address must not contain spaces, backslashes or control characters."),
                           field="stream_url")
    return text


def check_window(seconds: object) -> int:
    """The relay window in whole seconds; :class:`InvalidInput` (field ``stream_duration_s``) when out of range."""
    if type(seconds) is not int:
        raise InvalidInput(_l("Say how long the relay lasts."), field="stream_duration_s")
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise InvalidInput(_l("A relay lasts from %(least)s seconds to %(most)s hours.", least=MIN_WINDOW_S,
                              most=MAX_WINDOW_S // 3600), field="stream_duration_s")
    return seconds
