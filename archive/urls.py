"""Address normalisation: the many spellings of one address become one key.

The same item is reachable with and without ``www.``, with tracking parameters,
with or without a trailing slash, with a fragment, with the host in capitals. The
archive keys its ``addresses`` table by :func:`normalise_address` so that all of
these are one row. Which *document* an address belongs to is not decided here: the
record's id (``osce.org/<node>``, found by the crawler's site profile in the
canonical link, the URL or ``/node/<n>``) decides that, and the archive links every
address it saw for the item (requested, redirect hops, answering, canonical) to it.

Imports: the standard library only.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

#: Query parameters that only say where a visitor came from; never part of identity.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "spm",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SLASHES = re.compile(r"/{2,}")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


#: Addresses up to this long are kept once normalised (:func:`normalise_address`).
_KEEP_BELOW = 2000


def normalise_address(url: str) -> str:
    """One key per address: lower-case scheme and host, no ``www.``, no default port,
    no fragment, no tracking parameters, remaining parameters sorted, no trailing
    slash (except the root), repeated slashes collapsed, percent-escapes made uniform.

    The scheme is kept: ``http`` and ``https`` are different servers in general (a
    local mirror serves only one of them). The last few thousand addresses of ordinary
    length are kept: a page's ingest normalises the same few about ten times (a tenth of
    its CPU in ``bench/ingest_speed.py --profile``); a long one, as anyone may send the
    reading room, is not.
    """
    return _kept(url) if len(url) <= _KEEP_BELOW else _normalise(url)


@functools.lru_cache(maxsize=4096)
def _kept(url: str) -> str:
    return _normalise(url)


def _normalise(url: str) -> str:
    raw = url.strip()
    parts = urlsplit(raw)
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    netloc = host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    path = _SLASHES.sub("/", parts.path or "/")
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~")
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query_items = [(k, v) for k, v in pairs if not is_tracking_param(k)]
    query = urlencode(sorted(query_items))
    return urlunsplit((scheme, netloc, path, query, ""))
