"""`osce-archive serve`: the reading room (its work lives in ``web.serve``)."""

from web.serve import run

__all__ = ["run"]
