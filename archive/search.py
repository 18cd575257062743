"""Full-text search and the reading room's other read-only queries.

The index (revision 0004) covers the title and text of every version: FTS5 on SQLite,
a weighted ``tsvector`` with a GIN index on PostgreSQL. Since revision 0007 the text is
stored compressed (``archive.texts``), so the index holds no copy of it (a contentless
FTS5 table) and is fed by the versioning code, in the transaction that writes each
version (:func:`index_version`), not by triggers; snippets are cut from the texts read
back through ``archive.texts``. On PostgreSQL a one-word search of a frequent word is
ranked from that word's list of scores, kept by the same code (revision 0013,
:func:`_listed_page`), instead of by ``ts_rank`` over every match; on SQLite the
versions that are no longer current are listed (revision 0014), so the current matches
of a query are counted as every match less those, and a one-word search of a frequent
word reads the best rows kept for it when the index last stood still (revision 0015,
:func:`_kept_page`), while the index is still as it was. A user's query is
parsed here, once, into a small tree (words, quoted phrases, ``word*`` prefixes, ``OR``,
``-word``), and that tree is written out in each database's own syntax, so a query
means the same on both and no user text ever reaches either parser raw: every word is a
run of letters and digits, which both index the same way (see the revision's
docstring).

Errors in a query (an unbalanced quote, a ``*`` that follows no word, parentheses or
``NEAR``, nothing left to find) raise :class:`QueryError` with a message for people.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, bindparam, text

from archive import texts
from archive.names import number_sql
from archive.schema import (
    EPOCH_UNIX_MICROS,
    Coded,
    Version,
    from_header_column,
    from_sqlite_time,
    sqlite_time,
    unpack_url,
)
from archive.texts import TextReader

#: ``versions.kind`` as stored (revision 0022): statements written as text code the kind
#: they bind and decode the kinds they read.
_KIND = cast(Coded, Version.__table__.c.kind.type)

#: Bounds on what one request may ask for.
MAX_QUERY_CHARS = 500
MAX_TERMS = 16
MAX_PAGE_SIZE = 100
#: Marks around highlighted words in snippets (private-use characters, never in text).
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
SORTS = ("relevance", "date", "oldest", "seen")
#: FTS5's tokenizer, as the index (revisions 0004, 0007) and the snippets use it.
TOKENIZE = "unicode61 remove_diacritics 0"
#: Deepest result (page x size) found from the index's best-ranked rows alone
#: (:func:`_ranked_page`); deeper pages, and filtered searches, join every match.
RANKED_DEPTH = 10_000
#: How many best-ranked rows :func:`_ranked_page` takes first: at least this many, and
#: ``RANKED_OVER`` rows for each row the page needs (some are old versions, or tie).
RANKED_FIRST = 256
RANKED_OVER = 2
#: Versions read and indexed at a time by :func:`rebuild_index`.
REBUILD_BATCH = 500
#: On PostgreSQL, a word in at least this many current versions gets a list of them
#: in order of score (revision 0013, :func:`refresh_lists`): below it, ranking every
#: match costs a few milliseconds, and the lists would grow with every rarer word.
LIST_MIN_VERSIONS = 1000
#: On SQLite, a word in at least this many versions has its best rows kept (revision
#: 0015, :func:`refresh_rankings`): ranking every match by bm25 took 21 ms of a first search
#: for a word in 8,262 versions and 6.5 ms for one in 773, at 25,000 documents.
KEPT_MIN_VERSIONS = 500
#: How many of such a word's best rows are kept: the reading room's first window of
#: hits (its first ten pages), which a first search asks for.
KEPT_ROWS = 200

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(
    r'\s*(?:(?P<neg>-)?"(?P<phrase>[^"]*)"(?P<pstar>\*)?|(?P<bare>[^\s"]+)|(?P<quote>"))'
)


class QueryError(ValueError):
    """A search query that cannot be run, with a message that says how to fix it."""


@dataclass(frozen=True)
class Term:
    """Words that must appear in this order (one word, or a phrase); ``prefix``: the
    last word may be the start of a longer one."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass
class ParsedQuery:
    groups: list[list[Term]] = field(default_factory=list)  # AND of ORs
    excluded: list[Term] = field(default_factory=list)

    def fts5(self) -> str:
        def one(term: Term) -> str:
            return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")

        clause = " AND ".join("(" + " OR ".join(one(t) for t in g) + ")" for g in self.groups)
        for term in self.excluded:
            clause += " NOT " + one(term)
        return clause

    def tsquery(self) -> str:
        def one(term: Term) -> str:
            words = list(term.words)
            if term.prefix:
                words[-1] += ":*"
            inner = " <-> ".join(words)
            return f"({inner})" if len(words) > 1 else inner

        clause = " & ".join("(" + " | ".join(one(t) for t in g) + ")" for g in self.groups)
        for term in self.excluded:
            clause += " & !" + one(term)
        return clause

    def words(self) -> list[str]:
        return [w for g in self.groups for t in g for w in t.words]


def parse_query(raw: str) -> ParsedQuery:
    """The query tree of ``raw``; :class:`QueryError` when it cannot be read."""
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if raw.count('"') % 2:
        raise QueryError('unbalanced quotation mark: close the phrase with another "')
    if "(" in raw or ")" in raw or re.search(r"\bNEAR\b", raw):
        raise QueryError('parentheses and NEAR are not supported: use "a phrase", word*, OR, -word')
    parsed = ParsedQuery()
    pending_or = False
    for match in _TOKEN.finditer(raw):
        if match.group("quote"):
            raise QueryError('unbalanced quotation mark: close the phrase with another "')
        negative = bool(match.group("neg"))
        if match.group("phrase") is not None:
            words = tuple(w.lower() for w in _WORD.findall(match.group("phrase")))
            prefix = bool(match.group("pstar"))
        else:
            bare = match.group("bare") or ""
            if bare == "OR":
                if not parsed.groups:
                    raise QueryError("OR must stand between two words")
                pending_or = True
                continue
            if bare.startswith("-") and len(bare) > 1:
                negative, bare = True, bare[1:]
            prefix = bare.endswith("*")
            core = bare.rstrip("*")
            if "*" in core or (prefix and not _WORD.match(core[-1:])):
                raise QueryError("a * must end a word, as in negotiat* (it stands for the rest)")
            words = tuple(w.lower() for w in _WORD.findall(bare))
        if not words:
            continue
        term = Term(words, prefix)
        if negative:
            parsed.excluded.append(term)
        elif pending_or:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        pending_or = False
    if pending_or:
        raise QueryError("OR must stand between two words")
    if sum(len(g) for g in parsed.groups) + len(parsed.excluded) > MAX_TERMS:
        raise QueryError(f"too many terms: at most {MAX_TERMS}")
    if not parsed.groups and parsed.excluded:
        raise QueryError("a search needs at least one word to find, not only words to leave out")
    return parsed


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    source: str | None = None
    place: str | None = None
    field: str | None = None
    date_from: str | None = None  # YYYY-MM-DD, published on or after
    date_to: str | None = None  # YYYY-MM-DD, published on or before
    changed_since: datetime | None = None  # a change-log entry at or after
    all_versions: bool = False


@dataclass
class Hit:
    document_id: str
    version: int
    current_version: int
    title: str
    kind: str
    published: str | None
    place: str | None
    url: str
    deleted: bool
    score: float | None
    snippet: str = ""  # plain text with HIGHLIGHT_START/END marks
    title_marked: str = ""
    version_id: int = 0  # the row of the version (for snippets; not part of the answer)
    # The version's text, once read for its title (revision 0024): its snippet's source.
    text: str | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "version": self.version,
            "current_version": self.current_version,
            "title": self.title,
            "kind": self.kind,
            "published": self.published,
            "place": self.place,
            "url": self.url,
            "deleted": self.deleted,
            "score": self.score,
            "snippet": self.snippet.replace(HIGHLIGHT_START, "<mark>").replace(
                HIGHLIGHT_END, "</mark>"
            ),
        }


@dataclass
class Results:
    total: int
    hits: list[Hit]
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _filter_sql(conn: Connection, filters: Filters, params: dict[str, Any]) -> list[str]:
    pg = _is_pg(conn)
    where: list[str] = []
    if not filters.all_versions:
        where.append("v.number = d.current_version")
    if filters.kind:
        where.append("v.kind = :kind")
        params["kind"] = _KIND.encode(filters.kind)
    if filters.place:
        where.append("v.place = :place")
        params["place"] = filters.place
    for name, column, value in (
        ("source", "sources", filters.source),
        ("field", "fields_of_work", filters.field),
    ):
        if not value:
            continue
        params[name] = value
        # The name's number (revision 0026), or the name itself when too long for one.
        number = number_sql(name)
        if pg:
            where.append(
                f"(CAST(v.{column} AS jsonb) @> jsonb_build_array({number}) "
                f"OR CAST(v.{column} AS jsonb) @> jsonb_build_array(CAST(:{name} AS text)))"
            )
        else:
            where.append(
                f"EXISTS (SELECT 1 FROM json_each(v.{column}) j "
                f"WHERE j.value = {number} OR j.value = :{name})"
            )
    if filters.date_from:
        where.append("v.published >= :date_from")
        params["date_from"] = filters.date_from
    if filters.date_to:
        where.append("v.published <= :date_to")
        params["date_to"] = filters.date_to
    if filters.changed_since is not None:
        where.append(
            "EXISTS (SELECT 1 FROM changes c WHERE c.document_id = d.id AND c.at >= :since)"
        )
        since = filters.changed_since
        params["since"] = since if pg else sqlite_time(since)
    return where


def search(
    conn: Connection,
    query: str,
    filters: Filters | None = None,
    *,
    sort: str = "relevance",
    page: int = 1,
    size: int = 20,
    total: int | None = None,
) -> Results:
    """One page of versions matching ``query`` (all versions when it is empty),
    ranked or by date, with snippets; :class:`QueryError` for a query that cannot run.

    ``total``: the number of matches when the caller already knows it (from
    :func:`count` of the same query and filters on the same archive), so paging through
    a common word does not count its matches again."""
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    page = max(1, int(page))
    hits, complete = page_hits(
        conn, query, filters, sort=sort, offset=(page - 1) * size, limit=size,
        counted=total is None,
    )  # fmt: skip
    if complete is not None:
        total = complete
    elif total is None:
        total = count(conn, query, filters)
    add_snippets(conn, query, hits)
    return Results(total=total, hits=hits, page=page, size=size)


def page_hits(
    conn: Connection,
    query: str,
    filters: Filters | None = None,
    *,
    sort: str = "relevance",
    offset: int = 0,
    limit: int = 20,
    counted: bool = False,
) -> tuple[list[Hit], int | None]:
    """The hits ``offset`` to ``offset + limit`` of :func:`search`'s order, without
    snippets (:func:`add_snippets`), and the number of matches when it came for free
    (or, ``counted``, at the price of a window over every match in one pass)."""
    rows, complete = _page(conn, query, filters, sort, offset, limit, counted, whole=True)
    return _with_titles(conn, [_hit(r) for r in rows]), complete


def ranking(
    conn: Connection,
    query: str,
    filters: Filters | None = None,
    *,
    sort: str = "relevance",
    offset: int = 0,
    limit: int = 20,
    counted: bool = False,
) -> tuple[list[tuple[int, float | None]], int | None]:
    """:func:`page_hits` as (version row id, score) pairs alone, as the reading room keeps
    a query's ranking (:func:`hits_of` reads a page of it back). Where the rows can be
    told without reading them whole, they are not: a word's kept ranking (revision 0015)
    gives them without reading any version or document, and on SQLite a page of current
    text ranked or in date order is not joined to its documents."""
    rows, complete = _page(conn, query, filters, sort, offset, limit, counted, whole=False)
    return [(int(r.vid), _score(r.score)) for r in rows], complete


def _page(
    conn: Connection,
    query: str,
    filters: Filters | None,
    sort: str,
    offset: int,
    limit: int,
    counted: bool,
    *,
    whole: bool,
) -> tuple[Sequence[Any], int | None]:
    """The rows of :func:`page_hits` (``whole``: with every column of a hit) or of
    :func:`ranking` (at least ``vid`` and ``score``)."""
    filters = filters or Filters()
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: one of {', '.join(SORTS)}")
    parsed = parse_query(query or "")
    has_query = bool(parsed.groups)
    if not has_query and sort == "relevance":
        sort = "date"
    with _running(conn, has_query):
        return _page_rows(conn, parsed, filters, sort, offset, limit, counted, whole)


def _page_rows(
    conn: Connection,
    parsed: ParsedQuery,
    filters: Filters,
    sort: str,
    offset: int,
    limit: int,
    counted: bool,
    whole: bool = True,
) -> tuple[Sequence[Any], int | None]:
    """The rows of :func:`page_hits` (of :func:`ranking`, not ``whole``): from a word's
    list (:func:`_listed_page`) or its
    kept best rows (:func:`_kept_page`), or from the index's best rows when that can
    tell them (:func:`_ranked_page`), else from every match (:func:`_sorted_page`)."""
    ranked = None
    unfiltered = not _filter_sql(conn, replace(filters, all_versions=True), {})
    if parsed.groups and sort == "relevance" and unfiltered and not filters.all_versions:
        listed = _listed(conn, parsed)
        if listed is not None:
            return _listed_page(conn, listed, offset, limit)
        kept = _kept(conn, parsed)
        if kept is not None and kept.covers(offset + limit):
            return _kept_page(conn, kept, offset, limit, whole=whole)
    if parsed.groups and sort == "relevance" and unfiltered and offset + limit <= RANKED_DEPTH:
        ranked = _ranked_page(conn, parsed, filters, offset, limit, whole=whole)
    if ranked is not None:
        return ranked
    return _sorted_page(conn, parsed, filters, sort, offset, limit, counted=counted, whole=whole)


@contextmanager
def _running(conn: Connection, has_query: bool) -> Iterator[None]:
    """A search's statements: a database's complaint about a query becomes a
    :class:`QueryError` (the query tree is always valid; this is a last line of
    defence), and on PostgreSQL a text query reads the GIN index, not every vector.

    The planner prices ``@@`` as a cheap filter and scans the whole table for any word
    in more than a few percent of versions, reading (and decompressing) every stored
    vector: 40-70 ms where the index answers in 3-13. The setting is the transaction's
    own and is put back after the search (on an error the transaction is rolled back,
    and the setting with it)."""
    index_first = has_query and _is_pg(conn)
    try:
        if index_first:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        yield
        if index_first:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    except Exception as exc:
        if "fts5" in str(exc).lower() or "tsquery" in str(exc).lower():
            raise QueryError("the query could not be read; try plain words") from exc
        raise


def hits_of(conn: Connection, ranked: Sequence[tuple[int, float | None]]) -> list[Hit]:
    """The hits of the versions ``ranked`` (version row id, score), in that order, without
    snippets: a page cut from a ranking kept elsewhere (the reading room keeps each
    query's ranking as ids and scores alone, :func:`ranking`)."""
    if not ranked:
        return []
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS}, NULL AS score FROM versions v "
            "JOIN documents d ON d.id = v.document_id WHERE v.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": [vid for vid, _ in ranked]},
    ).all()
    found = {int(r.vid): _hit(r) for r in rows}
    return _with_titles(
        conn, [replace(found[vid], score=score) for vid, score in ranked if vid in found]
    )


def _with_titles(conn: Connection, hits: list[Hit]) -> list[Hit]:
    """``hits`` with their titles, read with their texts through ``archive.texts`` (a
    version's title is in its pack since revision 0024); the texts are kept for the
    snippets (:func:`add_snippets`)."""
    stored = _stored_texts(conn, [hit.version_id for hit in hits])
    for hit in hits:
        hit.title, hit.text = stored[hit.version_id]
    return hits


def add_snippets(conn: Connection, query: str, hits: list[Hit]) -> None:
    """Highlighted titles and snippets of ``hits`` for ``query`` (see :func:`_snippets`)."""
    if hits:
        parsed = parse_query(query or "")
        _snippets(conn, parsed if parsed.groups else None, hits, [h.version_id for h in hits])
    for hit in hits:
        hit.text = None  # read for the snippet: a kept page of hits keeps the snippets only


_COLUMNS = (
    "v.id AS vid, d.id AS doc, v.number, d.current_version, v.kind, "
    "v.published, v.place, d.url, d.deleted"
)


def count(conn: Connection, query: str, filters: Filters | None = None) -> int:
    """How many versions :func:`search` finds for ``query`` and ``filters``: the match
    alone, without ranking. Unfiltered, the index counts the match of every version
    (FTS5 from its index, PostgreSQL from the GIN index), and on PostgreSQL the current
    versions are counted from the index of current versions alone (revision 0008), not
    by a join of every match, or, for a listed word, from its list (revision 0013); on
    SQLite they are every match less the versions no longer current (revision 0014), or,
    for a word with kept best rows, their kept number (revision 0015)."""
    filters = filters or Filters()
    parsed = parse_query(query or "")
    has_query = bool(parsed.groups)
    params: dict[str, Any] = {}
    where = _filter_sql(conn, filters, params)
    pg = _is_pg(conn)
    unfiltered = not _filter_sql(conn, replace(filters, all_versions=True), {})
    listed = kept = None
    if unfiltered and not filters.all_versions:
        with _running(conn, has_query):
            listed, kept = _listed(conn, parsed), _kept(conn, parsed)
    if kept is not None:
        return kept.total
    if listed is not None:
        params["lex"] = listed
        sql = _LISTED_COUNT
    elif has_query and unfiltered and pg:
        params["q"] = parsed.tsquery()
        current = "" if filters.all_versions else "current AND "
        sql = f"SELECT count(*) FROM search_vectors WHERE {current}tsv @@ to_tsquery('simple', :q)"
    elif has_query and not where and not pg:
        params["q"] = parsed.fts5()
        sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :q"
    elif has_query and unfiltered and not pg:
        params["q"] = parsed.fts5()
        sql = _CURRENT_COUNT
    else:
        source, _ = _match_source(pg, parsed if has_query else None, params, where,
                                  ranked=False, current=not filters.all_versions)  # fmt: skip
        sql = f"SELECT count(*) FROM {source} WHERE {' AND '.join(where) or '1=1'}"
    with _running(conn, has_query):
        return int(conn.execute(text(sql), params).scalar_one())


#: The current versions a query matches on SQLite: FTS5 counts every version of the
#: match from its index, and those of them listed as no longer current (revision 0014,
#: a few thousand rows, looked up by primary key) are taken away. Joining each match to
#: its version and document instead cost 6x as much for a word in every document (the
#: SQL alone, best of 5: 22-26 against 3.7 ms at 25,000 documents).
_CURRENT_COUNT = (
    "SELECT (SELECT count(*) FROM search_fts WHERE search_fts MATCH :q) - "
    "(SELECT count(*) FROM (SELECT rowid AS fid FROM search_fts WHERE search_fts MATCH :q) m "
    "JOIN search_superseded o ON o.version_id = m.fid)"
)


def _sorted_page(
    conn: Connection,
    parsed: ParsedQuery,
    filters: Filters,
    sort: str,
    offset: int,
    size: int,
    *,
    counted: bool,
    whole: bool = True,
) -> tuple[Sequence[Any], int | None]:
    """One page in ``sort`` order over every match, and (``counted``) the number of
    matches, which rides along each row (a window over all matches, computed before
    LIMIT, so the match is evaluated once); without it the database sorts with the
    page's bound and keeps only the page. The total is also known when the page shows
    that nothing lies past it. Not ``whole``: on SQLite's date-ordered path
    (:func:`_dated_page`) the page's ids alone; other paths give whole rows regardless."""
    pg = _is_pg(conn)
    params: dict[str, Any] = {"limit": size, "offset": offset}
    where = _filter_sql(conn, filters, params)
    # Scores only rank; a page in date order has none (and FTS5 or PostgreSQL then need
    # not score every match).
    ranked = sort == "relevance"
    unfiltered = not _filter_sql(conn, replace(filters, all_versions=True), {})
    if not pg and parsed.groups and not ranked and unfiltered and not filters.all_versions:
        return _dated_page(conn, parsed, sort, offset, size, whole=whole)
    source, score = _match_source(
        pg, parsed if parsed.groups else None, params, where, ranked=ranked,
        current=not filters.all_versions,
    )  # fmt: skip
    clause = " AND ".join(where) or "1=1"
    window = ", count(*) OVER () AS total" if counted else ""
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS}, {score} AS score{window} FROM {source} WHERE {clause} "
            f"ORDER BY {_order_sql(sort, pg)} LIMIT :limit OFFSET :offset"
        ),
        params,
    ).all()
    if counted and rows:
        return rows, int(rows[0].total)
    return rows, (offset + len(rows) if 0 < len(rows) < size else None)


def _dated_page(
    conn: Connection, parsed: ParsedQuery, sort: str, offset: int, size: int, whole: bool = True
) -> tuple[Sequence[Any], int | None]:
    """One page of an unfiltered search of current text in date order, on SQLite: every
    match is sorted by its version's own columns alone, the versions no longer current
    left out by their list (revision 0014), and only the page's rows are joined to their
    documents. Sorting every match joined to its document, with every column of a hit,
    cost 2-2.5x as much (the SQL alone, best of 3: 60 against 25 ms for the first 200
    of a word in every document). Its count is :func:`count`'s, which reads the same
    list. Not ``whole``: the page's ids alone."""
    params = {"q": parsed.fts5(), "limit": size, "offset": offset}
    ids = (
        "SELECT v.id AS vid, NULL AS score FROM "
        "(SELECT rowid AS fid FROM search_fts WHERE search_fts MATCH :q) s "
        "JOIN versions v ON v.id = s.fid "
        "WHERE v.id NOT IN (SELECT version_id FROM search_superseded) "
        # v.document_id is d.id: the same order without the document's row.
        f"ORDER BY {_order_sql(sort, pg=False, doc='v.document_id')} "
        "LIMIT :limit OFFSET :offset"
    )
    if whole:
        ids = (
            f"SELECT {_COLUMNS}, NULL AS score FROM ({ids}) p "
            "JOIN versions v ON v.id = p.vid JOIN documents d ON d.id = v.document_id "
            f"ORDER BY {_order_sql(sort, pg=False)}"
        )
    rows = conn.execute(text(ids), params).all()
    return rows, (offset + len(rows) if 0 < len(rows) < size else None)


def _best_rows(pg: bool, current: bool) -> str:
    """The match's rows with their scores, best first: FTS5's bm25 on SQLite, ``ts_rank``
    over the GIN-indexed vectors on PostgreSQL (``current``: of current versions alone,
    from their own index)."""
    if pg:
        return (
            "SELECT version_id AS fid, ts_rank(tsv, to_tsquery('simple', :q), 1) AS score "
            f"FROM search_vectors WHERE {'current AND ' if current else ''}"
            "tsv @@ to_tsquery('simple', :q) ORDER BY score DESC"
        )
    return (
        "SELECT rowid AS fid, -bm25(search_fts, 10.0, 1.0) AS score FROM search_fts "
        "WHERE search_fts MATCH :q ORDER BY score DESC"
    )


def _ranked_page(
    conn: Connection,
    parsed: ParsedQuery,
    filters: Filters,
    offset: int,
    size: int,
    whole: bool = True,
) -> tuple[Sequence[Any], int | None] | None:
    """One page by relevance without joining every match, or ``None`` when only joining
    every match can tell it: the index ranks the match and keeps its best ``m`` rows,
    and those alone are joined to their versions (on PostgreSQL, and for every version,
    to their documents too, to keep current versions unless all are asked for), and the
    page's rows read whole (not ``whole``, on SQLite's lean path: their ids and scores
    alone). Used for searches without filters, whose best rows are
    mostly kept; a filter may drop most of them, so filtered searches join every match.

    A row is certain when its score is above the ``m``-th best, or when the match has
    fewer than ``m`` rows (then every match was seen, and so was the total). Rows that
    tie with the ``m``-th best may lie past the cut (``ts_rank`` gives many equal
    scores): a second pass takes every row scoring at least that much, tie and all."""
    need = offset + size
    m = max(RANKED_FIRST, RANKED_OVER * need)
    pg = _is_pg(conn)
    params: dict[str, Any] = {"q": parsed.tsquery() if pg else parsed.fts5(), "m": m}
    where = _filter_sql(conn, filters, params)
    best = _best_rows(pg, current=not filters.all_versions)
    tail = (
        f"SELECT {_COLUMNS}, s.score AS score{{edge}} FROM s JOIN versions v ON v.id = s.fid "
        f"JOIN documents d ON d.id = v.document_id{{cross}} WHERE {' AND '.join(where) or '1=1'} "
        f"ORDER BY {_order_sql('relevance', pg)}"
    )
    # SQLite, current versions: the rows are ordered by their versions' own columns, the
    # versions no longer current left out by their list (revision 0014), and only the
    # page's rows are read whole (:func:`_with_columns`; not at all when not ``whole``).
    # Joining every ranked row to its
    # document with every column of a hit cost as much as ranking: 64 and 96 ms for the
    # hits 200-1,200 and 1,200-2,200 of a word in every document, bm25 36-50 of them.
    unfiltered = not _filter_sql(conn, replace(filters, all_versions=True), {})
    lean = not pg and not filters.all_versions and unfiltered
    if lean:
        tail = (
            "SELECT v.id AS vid, s.score AS score{edge} FROM s JOIN versions v ON v.id = s.fid"
            "{cross} WHERE v.id NOT IN (SELECT version_id FROM search_superseded) "
            f"ORDER BY {_order_sql('relevance', pg, doc='v.document_id')}"
        )

    def page(rows: Sequence[Any]) -> Sequence[Any]:
        return _with_columns(conn, rows) if lean and whole else rows

    rows = conn.execute(
        text(
            f"WITH s AS MATERIALIZED ({best} LIMIT :m), "
            "edge AS (SELECT count(*) AS n, min(score) AS low FROM s) "
            + tail.format(edge=", edge.n AS ranked, edge.low AS low", cross=" CROSS JOIN edge")
        ),
        params,
    ).all()
    if not rows:
        return None  # the best m were all old versions (or there is no match: count it)
    if rows[0].ranked < m:  # every match was ranked
        return page(rows[offset:need]), len(rows)
    low = rows[0].low
    certain = [r for r in rows if r.score > low]
    if len(certain) >= need:
        return page(certain[offset:need]), None
    params["low"] = low
    rows = conn.execute(
        text(
            f"WITH s AS MATERIALIZED (SELECT * FROM ({best}) AS b "
            # (PostgreSQL sends ts_rank's float4 as its shortest decimal: read it back so)
            f"WHERE b.score >= {'CAST(:low AS real)' if pg else ':low'}) "
            + tail.format(edge="", cross="")
        ),
        params,
    ).all()
    return (page(rows[offset:need]), None) if len(rows) >= need else None


def _with_columns(conn: Connection, ranked: Sequence[Any]) -> list[Any]:
    """The rows ``ranked`` (each a ``vid`` and its ``score``), in their order, with every
    column of a hit, read by id."""
    if not ranked:
        return []
    found = {
        r.vid: r._asdict()
        for r in conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM versions v JOIN documents d ON d.id = v.document_id "
                "WHERE v.id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": [r.vid for r in ranked]},
        )
    }
    return [SimpleNamespace(**found[r.vid], score=r.score) for r in ranked]


def _listed_page(
    conn: Connection, listed: int, offset: int, size: int
) -> tuple[Sequence[Any], int]:
    """One page by relevance of a word with a list (revision 0013), and the total: the
    list holds, for every current version with the word, the very score ``ts_rank``
    gives it, so its order is the ranking's, and nothing is ranked here.

    Only the band of scores the page spans is joined to versions and documents: from
    the score of the page's first row to that of its last, each with every row that
    ties with it (ties are ordered by date, document and version, as every ranking is).
    Rows scoring above the band are only counted, to place the band in the ranking."""
    nth = "(SELECT score FROM search_top WHERE lexeme = :lex ORDER BY score DESC OFFSET {} LIMIT 1)"
    rows = conn.execute(
        text(
            f"WITH edge AS MATERIALIZED (SELECT {nth.format(':first')} AS high, "
            f"COALESCE({nth.format(':last')}, CAST('-infinity' AS real)) AS low, "
            f"({_LISTED_COUNT}) AS total), "
            "s AS MATERIALIZED (SELECT t.version_id AS fid, t.score FROM search_top t, edge "
            "WHERE t.lexeme = :lex AND t.score BETWEEN edge.low AND edge.high), "
            "above AS (SELECT count(*) AS n FROM search_top t, edge "
            "WHERE t.lexeme = :lex AND t.score > edge.high) "
            f"SELECT {_COLUMNS}, s.score AS score, above.n AS above, edge.total AS total "
            "FROM s JOIN versions v ON v.id = s.fid JOIN documents d ON d.id = v.document_id "
            "CROSS JOIN above CROSS JOIN edge WHERE v.number = d.current_version "
            f"ORDER BY {_order_sql('relevance', True)}"
        ),
        {"lex": listed, "first": offset, "last": offset + size - 1},
    ).all()
    if not rows:  # past the end of the list (or an empty one)
        return [], int(conn.execute(text(_LISTED_COUNT), {"lex": listed}).scalar_one())
    skip = offset - int(rows[0].above)
    return rows[skip : skip + size], int(rows[0].total)


#: The number of current versions holding a listed word: the length of its list.
_LISTED_COUNT = "SELECT count(*) FROM search_top WHERE lexeme = :lex"


def _listed(conn: Connection, parsed: ParsedQuery) -> int | None:
    """The id of the list (revision 0013) that ranks ``parsed`` over current versions,
    or ``None``: only a query of one whole word has one, when PostgreSQL reads it as
    that very lexeme (asked of PostgreSQL, which parses the query) and the word is
    listed; never on SQLite."""
    word = _one_word(parsed) if _is_pg(conn) else None
    if word is None:
        return None
    found = conn.execute(
        text(
            "SELECT id FROM search_top_lexemes WHERE lexeme = :w "
            "AND CAST(to_tsquery('simple', :q) AS text) = :quoted"
        ),
        {"w": word, "q": parsed.tsquery(), "quoted": f"'{word}'"},
    ).scalar()
    return None if found is None else int(found)


def _one_word(parsed: ParsedQuery) -> str | None:
    """The word of a query of one whole word (no prefix, phrase, OR or exclusion)."""
    if parsed.excluded or len(parsed.groups) != 1:
        return None
    term, *others = parsed.groups[0]
    if others or term.prefix or len(term.words) != 1:
        return None
    return term.words[0]


#: A word's kept ranking (revision 0015) is true while the index is as it was when it
#: was ranked, which the stamp tells: FTS5's record of the index's totals (rows and
#: tokens: FTS5 keeps it at row 1 of its data, and every version indexed changes it),
#: the newest row indexed (written at once, where the record is written when the
#: transaction commits), and the ranking code's own mark (:func:`_ranking_mark`). The
#: index only grows: a version is never taken from it or rewritten in place, except by
#: :func:`rebuild_index`, which empties the kept rankings.
_STAMP = (
    "SELECT hex(block) || '/' || (SELECT max(id) FROM search_fts_docsize) || '/' || :mark "
    "FROM search_fts_data WHERE id = 1"
)
_KEPT_TOTAL = (
    "SELECT w.total, s.best_rows FROM search_best_words w JOIN search_best_stamp s "
    f"ON s.stamp = ({_STAMP}) WHERE w.word = :w"
)


@lru_cache(maxsize=1)
def _ranking_mark() -> str:
    """A mark of the code that ranks a one-word search on SQLite (the query it becomes,
    bm25 and its weights, the order of ties, the tokenizer): rankings kept by other code
    are not read (a release that changes any of them ranks anew at its first crawl)."""
    parts = (
        parse_query("word").fts5(),
        _best_rows(pg=False, current=True),
        _order_sql("relevance", pg=False, doc="v.document_id"),
        TOKENIZE,
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Kept:
    """A word's kept ranking: its number of current versions, and the length of the
    ranking kept (its first ``length`` current versions; all of them when ``total`` is no
    more)."""

    word: str
    total: int
    length: int

    def covers(self, end: int) -> bool:
        """Whether the hits up to ``end`` are all in the ranking kept."""
        return end <= self.length or self.total <= self.length


def _kept(conn: Connection, parsed: ParsedQuery) -> _Kept | None:
    """The kept ranking (revision 0015) of ``parsed``, when it has one and it is still
    true, or ``None``: only on SQLite, for a query of one whole word, whose FTS5 query is
    then the very one it was ranked by."""
    if _is_pg(conn):
        return None
    word = _one_word(parsed)
    if word is None:
        return None
    found = conn.execute(text(_KEPT_TOTAL), {"w": word, "mark": _ranking_mark()}).first()
    return None if found is None else _Kept(word, int(found.total), int(found.best_rows))


def _kept_page(
    conn: Connection, kept: _Kept, offset: int, size: int, whole: bool = True
) -> tuple[Sequence[Any], int]:
    """One page by relevance from a word's kept ranking (revision 0015), within it (see
    :meth:`_Kept.covers`), and the total: the rows are the ranking's own, in its order,
    ranked by :func:`rank_frequent_words` at the index's present state; only the page's
    rows are joined to their versions and documents (not ``whole``: none is)."""
    joins = "JOIN versions v ON v.id = b.version_id JOIN documents d ON d.id = v.document_id "
    columns = f"{_COLUMNS}, b.score AS score" if whole else "b.version_id AS vid, b.score"
    rows = conn.execute(
        text(_KEPT_PAGE.format(columns=columns, joins=joins if whole else "")),
        {"w": kept.word, "first": offset, "end": offset + size},
    ).all()
    return rows, kept.total


#: A page of a word's kept ranking, in its order.
_KEPT_PAGE = (
    "SELECT {columns} FROM search_best b {joins}"
    "WHERE b.word = :w AND b.position >= :first AND b.position < :end ORDER BY b.position"
)


def _match_source(
    pg: bool,
    parsed: ParsedQuery | None,
    params: dict[str, Any],
    where: list[str],
    *,
    ranked: bool = True,
    current: bool = False,
) -> tuple[str, str]:
    """The FROM clause and score expression for a query (``None``: every version);
    sets ``params["q"]`` and adds the match to ``where`` as the database needs
    (``current``: current versions only, which PostgreSQL's index of them finds)."""
    if parsed is not None:
        if pg:
            params["q"] = parsed.tsquery()
            source = (
                "versions v JOIN documents d ON d.id = v.document_id "
                "JOIN search_vectors s ON s.version_id = v.id"
            )
            if current:
                where.append("s.current")
            where.append("s.tsv @@ to_tsquery('simple', :q)")
            score = "ts_rank(s.tsv, to_tsquery('simple', :q), 1)" if ranked else "NULL"
        else:
            params["q"] = parsed.fts5()
            rank = ", -bm25(search_fts, 10.0, 1.0) AS score" if ranked else ""
            source = (
                f"(SELECT rowid AS fid{rank} FROM search_fts "
                "WHERE search_fts MATCH :q) s JOIN versions v ON v.id = s.fid "
                "JOIN documents d ON d.id = v.document_id"
            )
            score = "s.score" if ranked else "NULL"
    else:
        source = "versions v JOIN documents d ON d.id = v.document_id"
        score = "NULL"
    return source, score


def _order_sql(sort: str, pg: bool, doc: str = "d.id") -> str:
    """The ORDER BY of one sort, the same on SQLite and PostgreSQL (``doc``: the
    column that holds the document's id)."""
    # Byte order of ids on PostgreSQL too, so both databases page the same way.
    doc_order = f'{doc} COLLATE "C"' if pg else doc
    order = {
        "relevance": f"score DESC, v.published DESC, {doc_order}, v.number DESC",
        "date": f"v.published DESC, {doc_order}, v.number DESC",
        "oldest": f"v.published ASC, {doc_order}, v.number ASC",
        "seen": f"v.first_seen DESC, {doc_order}, v.number DESC",
    }[sort]
    if pg:
        # NULL dates last in both orders, as SQLite sorts them (first ascending)...
        order = order.replace("v.published DESC", "v.published DESC NULLS LAST").replace(
            "v.published ASC", "v.published ASC NULLS FIRST"
        )
    return order


def _score(value: Any) -> float | None:
    """A score as every answer gives it: rounded to six decimals."""
    return None if value is None else round(float(value), 6)


def _hit(r: Any) -> Hit:
    """One result row as a :class:`Hit`."""
    return Hit(
        document_id=r.doc,
        version=int(r.number),
        current_version=int(r.current_version),
        title="",  # in the version's pack (revision 0024): read by _with_titles
        kind=_KIND.decode(r.kind),
        published=r.published,
        place=r.place,
        url=unpack_url(r.url),
        deleted=bool(r.deleted),
        score=_score(r.score),
        version_id=int(r.vid),
    )


def _snippets(
    conn: Connection, parsed: ParsedQuery | None, hits: list[Hit], ids: list[int]
) -> None:
    """Highlighted titles and text snippets of one page of hits. The texts are read
    through ``archive.texts`` (they are stored compressed), so the database's own
    snippet functions are given them: ``ts_headline`` on PostgreSQL, FTS5's
    ``highlight`` and ``snippet`` over the page's texts in a private in-memory FTS5
    table on SQLite (the archive's index keeps no copy of the text to cut from)."""
    marks = {"s": HIGHLIGHT_START, "e": HIGHLIGHT_END}
    if all(hit.text is not None for hit in hits):
        stored = {vid: (hit.title, str(hit.text)) for hit, vid in zip(hits, ids, strict=True)}
    else:
        stored = _stored_texts(conn, ids)
    if parsed is None:
        found = {
            vid: (title, body[:240] + ("…" if len(body) >= 240 else ""))
            for vid, (title, body) in stored.items()
        }
    elif _is_pg(conn):
        options = (
            f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=30, MinWords=12, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        order = sorted(stored)
        rows = conn.execute(
            text(
                "SELECT u.id, ts_headline('simple', u.title, to_tsquery('simple', :q), :ht), "
                "ts_headline('simple', u.body, to_tsquery('simple', :q), :o) "
                "FROM unnest(CAST(:ids AS integer[]), CAST(:titles AS text[]), "
                "CAST(:bodies AS text[])) AS u(id, title, body)"
            ),
            {
                "ids": order,
                "titles": [stored[i][0] for i in order],
                "bodies": [_pg_text(stored[i][1]) for i in order],
                "q": parsed.tsquery(),
                "o": options,
                "ht": "HighlightAll=true, " + options,
            },
        ).all()
        found = {r[0]: (r[1], r[2]) for r in rows}
    else:
        found = _fts5_marks(parsed.fts5(), marks, stored)
    for hit, vid in zip(hits, ids, strict=True):
        title, snippet = found.get(vid, (hit.title, ""))
        hit.title_marked, hit.snippet = title or hit.title, snippet or ""


def _stored_texts(conn: Connection, ids: list[int]) -> dict[int, tuple[str, str]]:
    """(title, text) of each version ``ids``, read through ``archive.texts``."""
    from sqlalchemy import select

    from archive.schema import Version

    if not ids:
        return {}
    reader = TextReader(conn)
    rows = conn.execute(select(Version.id, *texts.columns()).where(Version.id.in_(ids))).all()
    out = {}
    for row in rows:
        body, _provenance, fields = reader.read_all(row)
        out[row.id] = (fields["title"], body)
    return out


def _fts5_marks(
    query: str, marks: dict[str, str], stored: dict[int, tuple[str, str]]
) -> dict[int, tuple[str, str]]:
    """FTS5's own ``highlight`` of each title and ``snippet`` of each text, from an
    in-memory FTS5 table of the same tokenizer as the index (so a read-only archive
    needs no write, and the marks are exactly those FTS5 gives)."""
    memory = sqlite3.connect(":memory:")
    try:
        memory.execute(f"CREATE VIRTUAL TABLE page USING fts5(title, text, tokenize='{TOKENIZE}')")
        memory.executemany(
            "INSERT INTO page(rowid, title, text) VALUES (?, ?, ?)",
            [(vid, title, body) for vid, (title, body) in stored.items()],
        )
        rows = memory.execute(
            "SELECT rowid, highlight(page, 0, :s, :e), snippet(page, 1, :s, :e, '…', 24) "
            "FROM page WHERE page MATCH :q",
            {**marks, "q": query},
        ).fetchall()
    finally:
        memory.close()
    return {r[0]: (r[1], r[2]) for r in rows}


# ---------------------------------------------------------------------- other reads


def facets(conn: Connection) -> dict[str, list[str]]:
    """The values each filter can take, over current versions, sorted."""
    pg = _is_pg(conn)
    current = (
        "FROM versions v JOIN documents d ON d.id = v.document_id AND v.number = d.current_version"
    )
    out: dict[str, list[str]] = {
        "kind": [
            _KIND.decode(r[0]) for r in conn.execute(text(f"SELECT DISTINCT v.kind {current}"))
        ],
        "place": [
            r[0]
            for r in conn.execute(
                text(f"SELECT DISTINCT v.place {current} WHERE v.place IS NOT NULL")
            )
        ],
    }
    for name, column in (("source", "sources"), ("field", "fields_of_work")):
        # Each list holds names' numbers (revision 0026) or, for a name too long for
        # one, the name itself.
        if pg:
            sql = (
                "SELECT DISTINCT coalesce(n.name, e.value #>> '{}') "
                f"{current} CROSS JOIN jsonb_array_elements(CAST(v.{column} AS jsonb)) e "
                "LEFT JOIN names n ON n.id = CASE WHEN jsonb_typeof(e.value) = 'number' "
                "THEN CAST(e.value #>> '{}' AS integer) END"
            )
        else:
            sql = (
                f"SELECT DISTINCT coalesce(n.name, j.value) {current} "
                f"JOIN json_each(v.{column}) j "
                "LEFT JOIN names n ON j.type = 'integer' AND n.id = j.value"
            )
        out[name] = [r[0] for r in conn.execute(text(sql)) if isinstance(r[0], str)]
    return {k: sorted(v) for k, v in out.items()}


def generation(conn: Connection) -> tuple[Any, ...]:
    """What moves whenever a crawl commits: the newest change-log entry, capture and run
    (and whether that run has finished). Three primary-key lookups: cheap enough to ask
    on every request, so a reader's cache knows when to forget."""
    row = conn.execute(
        text(
            "SELECT (SELECT max(seq) FROM changes), (SELECT max(id) FROM captures), "
            "(SELECT max(id) FROM runs), "
            "(SELECT outcome FROM runs ORDER BY id DESC LIMIT 1)"
        )
    ).one()
    return tuple(row)


def counts(conn: Connection) -> dict[str, Any]:
    """What the home page shows: counts and the last run."""

    def one(sql: str) -> int:
        return int(conn.execute(text(sql)).scalar_one() or 0)

    last = conn.execute(
        text(
            "SELECT id, started_at, finished_at, outcome, counters FROM runs "
            "ORDER BY id DESC LIMIT 1"
        )
    ).first()
    return {
        "documents": one("SELECT count(*) FROM documents WHERE current_version > 0"),
        "versions": one("SELECT count(*) FROM versions"),
        "captures": one("SELECT count(*) FROM captures"),
        "deleted": one("SELECT count(*) FROM documents WHERE deleted"),
        "duplicates": one("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL"),
        "changes": one("SELECT count(*) FROM changes"),
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "started_at": _iso(last.started_at),
            "finished_at": _iso(last.finished_at),
            "outcome": last.outcome,
        },
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    when = value if isinstance(value, datetime) else from_sqlite_time(value)  # SQLite's form
    return when.isoformat()


def per_month(conn: Connection) -> dict[str, dict[str, int]]:
    """Items by month of publication and change-log entries by month they happened."""
    pg = _is_pg(conn)
    month_at = (
        "to_char(c.at AT TIME ZONE 'UTC', 'YYYY-MM')"
        if pg
        else f"strftime('%Y-%m', (c.at + {EPOCH_UNIX_MICROS}) / 1000000, 'unixepoch')"
    )
    items = conn.execute(
        text(
            "SELECT substr(v.published, 1, 7) AS m, count(*) FROM versions v "
            "JOIN documents d ON d.id = v.document_id AND v.number = d.current_version "
            "WHERE v.published IS NOT NULL GROUP BY m ORDER BY m"
        )
    ).all()
    changed = conn.execute(
        text(f"SELECT {month_at} AS m, count(*) FROM changes c GROUP BY m ORDER BY m")
    ).all()
    return {
        "items": {r[0]: int(r[1]) for r in items if r[0]},
        "changes": {r[0]: int(r[1]) for r in changed if r[0]},
    }


@dataclass(frozen=True)
class CaptureInfo:
    id: int
    url: str
    final_url: str | None
    fetched_at: datetime
    status: int
    content_type: str | None
    body_sha256: str | None
    version_id: int | None
    outcome: str
    error: str | None


def captures_of(conn: Connection, document_id: str) -> list[CaptureInfo]:
    """Every fetch of a document, oldest first."""
    from archive.schema import Capture

    c = Capture.__table__.c
    from sqlalchemy import select

    rows = conn.execute(
        select(
            c.id,
            c.url,
            c.final_url,
            c.fetched_at,
            c.status,
            c.content_type,
            c.body_sha256,
            c.version_id,
            c.outcome,
            c.error,
            c.http,
        )
        .where(c.document_id == document_id)
        .order_by(c.fetched_at, c.id)
    ).all()
    return [
        CaptureInfo(
            id=r.id,
            url=r.url,
            final_url=r.final_url,
            fetched_at=r.fetched_at,
            status=r.status,
            # The answers as stored (revision 0028) keep their headers but Date's.
            content_type=from_header_column(r.content_type, r.http, "content_type"),
            body_sha256=r.body_sha256,
            version_id=r.version_id,
            outcome=r.outcome,
            error=r.error,
        )
        for r in rows
    ]


def capture_of(conn: Connection, document_id: str, capture_id: int) -> CaptureInfo | None:
    for capture in captures_of(conn, document_id):
        if capture.id == capture_id:
            return capture
    return None


# ---------------------------------------------------------------------- the index


def index_version(
    conn: Connection, version_id: int, title: str, body: str, document_id: str
) -> None:
    """Put one new version, now its document's current one, into the search index, in
    the caller's transaction (the versioning rule calls it for every version it writes:
    the index is fed from here, not by triggers, since the stored text is compressed).
    On PostgreSQL the document's older versions leave the index of current versions,
    and the lists of frequent words (revision 0013): the old current version's rows go,
    the new one's come, one for each listed word its vector holds. On SQLite they are
    listed as no longer current (revision 0014)."""
    _index(conn, [{"id": version_id, "title": title, "body": body}], current=True)
    if _is_pg(conn):
        conn.execute(text(_LEAVE_CURRENT), {"doc": document_id, "id": version_id})
        conn.execute(text(_LIST_ROWS + " WHERE s.version_id = :id"), {"id": version_id})
    else:
        conn.execute(text(_SUPERSEDE), {"doc": document_id, "id": version_id})


#: SQLite: a document's versions other than ``:id`` are no longer current (revision 0014).
_SUPERSEDE = (
    "INSERT OR IGNORE INTO search_superseded (version_id) "
    "SELECT id FROM versions WHERE document_id = :doc AND id <> :id"
)
#: Every version that is not its document's current one, as ``osce-archive index`` lists
#: them again.
_ALL_SUPERSEDED = (
    "INSERT INTO search_superseded (version_id) SELECT v.id FROM versions v "
    "JOIN documents d ON d.id = v.document_id WHERE v.number <> d.current_version"
)

#: A document's versions other than ``:id`` leave the index of current versions and the
#: lists of frequent words; ``:id``'s own list rows go too (they are written afresh).
_LEAVE_CURRENT = (
    "WITH old AS (UPDATE search_vectors SET current = false WHERE current "
    "AND version_id IN (SELECT id FROM versions WHERE document_id = :doc "
    "AND id <> :id) RETURNING version_id) "
    "DELETE FROM search_top WHERE version_id IN "
    "(SELECT version_id FROM old UNION ALL SELECT :id)"
)


def index_versions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """:func:`index_version` for several new versions at once (``id``, ``title``,
    ``body``, ``document_id`` each, in the order they were written): one executemany,
    then on PostgreSQL one statement per document, which leaves its newest one current
    and moves the lists of frequent words (revision 0013) from its older versions to
    it, and one insert of the newest versions' list rows; on SQLite one executemany
    lists each document's older versions as no longer current (revision 0014)."""
    if not rows:
        return
    _index(conn, [{k: row[k] for k in ("id", "title", "body")} for row in rows], current=True)
    newest = {row["document_id"]: row["id"] for row in rows}
    if not _is_pg(conn):
        conn.execute(text(_SUPERSEDE), [{"doc": doc, "id": vid} for doc, vid in newest.items()])
    else:
        for document_id, version_id in newest.items():
            conn.execute(text(_LEAVE_CURRENT), {"doc": document_id, "id": version_id})
        conn.execute(
            text(_LIST_ROWS + " WHERE s.version_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": list(newest.values())},
        )


def _pg_text(value: str) -> str:
    """``value`` as PostgreSQL's text takes it: a NUL (which a stored text may hold,
    since the archive keeps it in a compressed pack) is no word, so a space for it."""
    return value.replace("\x00", " ")


#: The rows of the lists (revision 0013) for the vectors the caller's WHERE picks: one
#: for each listed word a vector holds, scored by ``ts_rank`` of that word alone, as a
#: search asks it (the tsquery of the lexeme: a listed word holds no quote to escape).
#: Whole lists are written in the order they are read (``ORDER BY 1, 2 DESC``): each
#: word's rows then lie together in the table, so its best rows and its count read a
#: few pages, not one page per row, until vacuum marks them all visible.
_LIST_ROWS = (
    "INSERT INTO search_top (lexeme, score, version_id) "
    "SELECT l.id, ts_rank(s.tsv, CAST('''' || l.lexeme || '''' AS tsquery), 1), s.version_id "
    "FROM search_vectors s CROSS JOIN LATERAL unnest(tsvector_to_array(s.tsv)) AS w(lexeme) "
    "JOIN search_top_lexemes l ON l.lexeme = w.lexeme"
)


def refresh_lists(conn: Connection, min_versions: int = LIST_MIN_VERSIONS) -> int:
    """Give a list (revision 0013) to every word now in at least ``min_versions`` current
    versions that has none yet; the number of words listed. PostgreSQL only (0 on
    SQLite). A listed word stays listed: its list stays exact as versions come and go.

    Called when a crawl finishes and by ``osce-archive index``. The words are counted
    over every current vector without a lock (``ts_stat``); only when one is to be
    listed is the index locked against writers (SHARE: they wait, readers do not), so
    that no version is missed: one written before the lock is in the list computed
    after it, one written after finds the word listed."""
    if not _is_pg(conn):
        return 0
    words = (
        conn.execute(
            text(
                "SELECT word FROM ts_stat('SELECT tsv FROM search_vectors WHERE current') "
                "WHERE ndoc >= :n AND strpos(word, '''') = 0 AND strpos(word, '\\') = 0 "
                "AND word NOT IN (SELECT lexeme FROM search_top_lexemes) ORDER BY word"
            ),
            {"n": min_versions},
        )
        .scalars()
        .all()
    )
    if not words:
        return 0
    conn.exec_driver_sql("LOCK TABLE search_vectors IN SHARE MODE")
    ids = (
        conn.execute(
            text(
                "INSERT INTO search_top_lexemes (lexeme) SELECT unnest(CAST(:words AS text[])) "
                "ON CONFLICT (lexeme) DO NOTHING RETURNING id"
            ),
            {"words": list(words)},
        )
        .scalars()
        .all()
    )
    if ids:
        conn.execute(
            text(
                _LIST_ROWS + " WHERE s.current AND l.id = ANY(CAST(:ids AS integer[])) "
                "ORDER BY 1, 2 DESC"
            ),
            {"ids": list(ids)},
        )
        conn.exec_driver_sql("ANALYZE search_top")
    return len(ids)


#: The tables of kept rankings (revision 0015), emptied before they are written again.
_KEPT_TABLES = ("search_best", "search_best_words", "search_best_stamp")


@dataclass
class Rankings:
    """Frequent words ranked at one state of the index (its stamp), to be kept."""

    stamp: str
    min_versions: int
    length: int
    words: dict[str, tuple[int, list[tuple[int, float]]]]  # word: (total, [(id, score)])


def rank_frequent_words(conn: Connection, min_versions: int | None = None) -> Rankings | None:
    """On SQLite, rank every word now in at least ``min_versions`` versions (default
    :data:`KEPT_MIN_VERSIONS`): its first :data:`KEPT_ROWS` current versions and its
    number of current versions, at the index's present state (revision 0015). ``None``
    when the rankings kept are already those (or on PostgreSQL, see :func:`refresh_lists`).

    Reads only: the caller may rank in a read transaction, which holds no lock, and keep
    the result in a short write transaction (:func:`keep_rankings`). Each word is ranked
    and counted by the very code a search runs (:func:`_page_rows`, :func:`count`), so
    the answers are the same by construction. The words are
    those of the index's vocabulary (an ``fts5vocab`` table in the connection's temporary
    schema, dropped after)."""
    if _is_pg(conn):
        return None
    n = KEPT_MIN_VERSIONS if min_versions is None else min_versions
    stamp = conn.execute(text(_STAMP), {"mark": _ranking_mark()}).scalar()
    kept = conn.execute(text("SELECT stamp, min_versions, best_rows FROM search_best_stamp"))
    if stamp is not None and kept.first() == (stamp, n, KEPT_ROWS):
        return None
    rankings = Rankings(stamp or "", n, KEPT_ROWS, {})
    if stamp is None:  # nothing indexed yet
        return rankings
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab "
        "USING fts5vocab(main, search_fts, row)"
    )
    try:
        terms = conn.execute(
            text("SELECT term FROM temp.search_vocab WHERE doc >= :n ORDER BY term"), {"n": n}
        ).scalars().all()  # fmt: skip
    finally:
        conn.exec_driver_sql("DROP TABLE temp.search_vocab")
    for term in terms:
        try:
            parsed = parse_query(term)
        except QueryError:
            continue
        if _one_word(parsed) != term:
            continue  # not a word a query asks for alone
        rows, total = _page_rows(
            conn, parsed, Filters(), "relevance", 0, KEPT_ROWS, counted=True, whole=False
        )
        if total is None:
            total = count(conn, term)
        if total:  # (else only in versions no longer current)
            rankings.words[term] = (total, [(int(r.vid), float(r.score)) for r in rows])
    return rankings


def keep_rankings(conn: Connection, rankings: Rankings) -> int:
    """Keep ``rankings`` in place of those kept (revision 0015), when the index is still
    as it was when they were ranked; the number of words kept (0 when it moved on: the
    rankings kept stay unread until the next ranking). In a write transaction; a search
    sees the old rankings or the new ones."""
    stamp = conn.execute(text(_STAMP), {"mark": _ranking_mark()}).scalar()
    if (stamp or "") != rankings.stamp:
        return 0
    for table in _KEPT_TABLES:
        conn.exec_driver_sql(f"DELETE FROM {table}")
    if not rankings.stamp:
        return 0
    rows = [
        {"w": word, "p": i, "v": vid, "s": score}
        for word, (_, ranked) in rankings.words.items()
        for i, (vid, score) in enumerate(ranked)
    ]
    if rows:
        conn.execute(
            text(
                "INSERT INTO search_best (word, position, version_id, score) "
                "VALUES (:w, :p, :v, :s)"
            ),
            rows,
        )
        conn.execute(
            text("INSERT INTO search_best_words (word, total) VALUES (:w, :t)"),
            [{"w": word, "t": total} for word, (total, _) in rankings.words.items()],
        )
    conn.execute(
        text(
            "INSERT INTO search_best_stamp (id, stamp, min_versions, best_rows) "
            "VALUES (1, :s, :n, :length)"
        ),
        {"s": rankings.stamp, "n": rankings.min_versions, "length": rankings.length},
    )
    return len(rankings.words)


def refresh_rankings(conn: Connection, min_versions: int | None = None) -> int:
    """:func:`rank_frequent_words` and :func:`keep_rankings` in the caller's transaction;
    the number of words kept, 0 when nothing changed (and on PostgreSQL)."""
    rankings = rank_frequent_words(conn, min_versions)
    return 0 if rankings is None else keep_rankings(conn, rankings)


def _index(conn: Connection, rows: list[dict[str, Any]], *, current: bool) -> None:
    if not rows:
        return
    if _is_pg(conn):
        statement = (
            "INSERT INTO search_vectors (version_id, tsv, current) "
            "VALUES (:id, search_tsv(CAST(:title AS text), CAST(:body AS text)), :current) "
            "ON CONFLICT (version_id) DO UPDATE SET tsv = EXCLUDED.tsv, current = EXCLUDED.current"
        )
        rows = [{**row, "body": _pg_text(row["body"]), "current": current} for row in rows]
    else:
        statement = "INSERT INTO search_fts(rowid, title, text) VALUES (:id, :title, :body)"
    conn.execute(text(statement), rows)


def rebuild_index(conn: Connection) -> int:
    """Rebuild the search index from the stored versions (their texts read through
    ``archive.texts``); the number of versions indexed.

    Needed only after the index was damaged or the database restored without it: every
    version written is indexed in the transaction that writes it. On PostgreSQL the
    lists of frequent words are rebuilt too, and words now frequent are listed; on
    SQLite the list of versions no longer current, and the kept best rows of frequent
    words are emptied (the next crawl's end, or ``osce-archive index``, ranks them again).
    """
    from sqlalchemy import select

    from archive.schema import Version

    if _is_pg(conn):
        conn.exec_driver_sql("DELETE FROM search_top")
        conn.exec_driver_sql("DELETE FROM search_vectors")
    else:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
        conn.exec_driver_sql("DELETE FROM search_superseded")
        conn.exec_driver_sql(_ALL_SUPERSEDED)
        for table in _KEPT_TABLES:  # the index may end as it was: rank again regardless
            conn.exec_driver_sql(f"DELETE FROM {table}")
    ids = list(conn.execute(select(Version.id).order_by(Version.id)).scalars())
    reader = TextReader(conn)
    for start in range(0, len(ids), REBUILD_BATCH):
        chunk = ids[start : start + REBUILD_BATCH]
        rows = conn.execute(select(Version.id, *texts.columns()).where(Version.id.in_(chunk))).all()
        read = [(r.id, reader.read_all(r)) for r in rows]
        _index(
            conn, [{"id": i, "title": f["title"], "body": body} for i, (body, _p, f) in read],
            current=False,
        )  # fmt: skip
    if _is_pg(conn):
        conn.exec_driver_sql(
            "UPDATE search_vectors s SET current = true FROM versions v JOIN documents d "
            "ON d.id = v.document_id AND v.number = d.current_version WHERE s.version_id = v.id"
        )
        conn.execute(text(_LIST_ROWS + " WHERE s.current ORDER BY 1, 2 DESC"))
        refresh_lists(conn)
    return len(ids)
