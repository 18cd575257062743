"""Errors the archive reports to people, and the redaction of secrets in them.

Imports: the standard library only.
"""

from __future__ import annotations

import re


class ArchiveError(Exception):
    """A failure with a one-line reason fit for a user (exit status 1)."""


class ArchiveLocked(ArchiveError):
    """Another run holds the archive's lock (exit status 75)."""


_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):(?P<pw>[^@\s]*)@")


def redact(text: str) -> str:
    """Hide the password of any URL in ``text`` (``scheme://user:***@host``)."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}:***@", text)


def one_line(exc: BaseException) -> str:
    """``Type: message`` in one line, fit for stderr or a log, password redacted.

    For a database error this is the driver's own message (``database or disk is
    full``, ``server closed the connection unexpectedly``), not the first line of
    SQLAlchemy's text, which may be a note about autoflush or the SQL it ran.
    """
    source = getattr(exc, "orig", None)
    if not isinstance(source, BaseException):
        source = exc
    text = next((ln.strip() for ln in str(source).splitlines() if ln.strip()), "")
    name = type(source).__name__
    return redact(f"{name}: {text}" if text else name)


class UnknownDocument(ArchiveError):
    """No document has this id or address."""
