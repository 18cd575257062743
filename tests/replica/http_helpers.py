"""A tiny keep-alive HTTP client for the replica tests (exact headers, raw bodies)."""

from __future__ import annotations

import gzip
import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes  # as sent (possibly gzip)

    @property
    def body(self) -> bytes:
        if self.headers.get("content-encoding") == "gzip":
            return gzip.decompress(self.raw)
        return self.raw

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Client:
    """One keep-alive connection to a base URL."""

    def __init__(self, base: str, timeout: float = 10) -> None:
        netloc = urlsplit(base).netloc
        host, port = netloc.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def get(self, path: str, method: str = "GET", **headers: str) -> Answer:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        self.conn.request(method, path, headers=sent)
        resp = self.conn.getresponse()
        raw = resp.read()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw)

    def close(self) -> None:
        self.conn.close()
