"""The reading room: a read-only web view of the archive (``osce-archive serve``)."""

from web.app import create_app

__all__ = ["create_app"]
