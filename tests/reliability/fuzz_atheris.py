"""libFuzzer (atheris) over the crawl's extraction, seeded with real replica pages.

Run by ``test_hostile_pages.test_atheris_fuzz`` (and ``bench/soak.py``) in a child
process, since libFuzzer owns the process and exits when done::

    python -m tests.reliability.fuzz_atheris CORPUS_DIR -runs=2000 -timeout=2

``-timeout=2`` makes any input that keeps extraction busy over two seconds a failure
(libFuzzer reports it and exits non-zero), as does any exception: ``extract`` promises
never to raise. The corpus folder is filled with the replica pages first if empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from crawler import sites as extract_module

URL = "https://www.osce.org/pc/55436"


def one_input(data: bytes) -> None:
    record = extract_module.extract(data, URL)
    if not record.kind or not isinstance(record.text, str):
        raise AssertionError(f"malformed record: {record!r}")


def seed_corpus(folder: Path) -> None:
    from tests.reliability.mutations import replica_pages

    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    for n, (_, body) in enumerate(replica_pages()):
        (folder / f"replica-{n:03d}.html").write_bytes(body)


def main() -> None:
    corpus = next((Path(a) for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None:
        seed_corpus(corpus)
    atheris.Setup([sys.argv[0], "-max_len=262144", *sys.argv[1:]], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
