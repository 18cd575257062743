"""The archive: storage, versions, deduplication, queries and exports.

It knows storage and time and never imports Scrapy: its input is plain data
(``archive.records``), so the crawl, ``reextract`` or a test can feed it alike.
"""
