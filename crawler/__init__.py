"""The crawler: fetching osce.org (Scrapy), extraction (site profile, trafilatura, dates).

It knows the web and the site, and hands finished captures and records to ``archive``.
"""
