"""`osce-archive index`: rebuild the full-text index (work in ``web.serve``)."""

from web.serve import rebuild as run

__all__ = ["run"]
