"""Near-duplicates: ``archive.dedup`` (ours) against datasketch's MinHash and MinHashLSH.

Issue 15 asks to keep our MinHash/LSH only if the library is slower or wrong on the
replica's duplicate cases and a benchmark. Both sides get the same texts, the same word
3-shingles and the same final rule (exact Jaccard >= 0.8 on the candidates, as the
archive confirms every candidate); what differs is the sketch and the banding:

* ours: 64 one-permutation MinHash bins (one blake2b per shingle), 16 bands of 4 rows,
  and the 64-byte packed sketch that drops chance candidates before their text is read;
* datasketch: ``MinHash(num_perm=64)`` (``update_batch``) and ``MinHashLSH`` at threshold
  0.8, with the bands it chooses itself and with our 16 x 4; the MinHash estimate plays
  the part of our packed sketch.

Texts: every live item of a replica epoch (its republished copies are exact duplicates),
plus one edited variant of a sample of items, edited from far to near (every k-th word
replaced), so pairs fall on both sides of the threshold. The truth is the exact Jaccard
of each variant with its source. The cases of ``tests/archive/test_dedup.py`` are run
through both as well.

    python bench/dedup_datasketch.py [--items 2000] [--variants 400] [--json]

Speed is reported as a ratio against ours measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive import dedup  # noqa: E402

NUM_PERM = 64


def corpus(items: int, variants: int, seed: int) -> tuple[list[str], list[tuple[int, int]]]:
    """The texts, and (variant, source) index pairs of the edited variants."""
    from replica import Site

    site = Site(items, seed, epoch=3)
    texts = [site.record(it)["text"] for it in site.items_live()]
    pairs = []
    step = max(1, len(texts) // max(1, variants))
    for n, source in enumerate(range(0, len(texts), step)):
        if len(pairs) >= variants:
            break
        every = 6 + n % 60  # from far (every 6th word: Jaccard ~0.6) to near (every 65th)
        words = texts[source].split(" ")
        texts.append(" ".join(f"x{i}q{n}" if i % every == 0 else w for i, w in enumerate(words)))
        pairs.append((len(texts) - 1, source))
    return texts, pairs


class Ours:
    name = "ours (archive.dedup)"

    def __init__(self) -> None:
        self.index: dict[int, list[int]] = defaultdict(list)
        self.sigs: list[dedup.Signature] = []

    def sketch(self, texts: list[str]) -> None:
        self.sigs = [dedup.signature(t) for t in texts]

    def insert(self) -> None:
        for i, sig in enumerate(self.sigs):
            for key in sig.keys:
                self.index[key].append(i)

    def candidates(self, i: int) -> list[int]:
        sig = self.sigs[i]
        shared = Counter(j for key in sig.keys for j in self.index[key] if j != i)
        ranked = [j for j, _ in sorted(shared.items(), key=lambda x: (-x[1], x[0]))]
        ranked = ranked[:200]  # versioning.CANDIDATES
        return [
            j
            for j in ranked
            if sig.packed is None
            or self.sigs[j].packed is None
            or dedup.agreement(sig.packed, self.sigs[j].packed or b"") >= dedup.SKETCH_FLOOR
        ]

    def raw_candidates(self, i: int) -> int:
        return len({j for key in self.sigs[i].keys for j in self.index[key] if j != i})


class Library:
    def __init__(self, params: tuple[int, int] | None) -> None:
        from datasketch import MinHashLSH

        self.params = params
        self.name = "datasketch " + (f"bands {params[0]}x{params[1]}" if params else "auto bands")
        if params:
            self.lsh = MinHashLSH(threshold=0.8, num_perm=NUM_PERM, params=params)
        else:
            self.lsh = MinHashLSH(threshold=0.8, num_perm=NUM_PERM)
        self.mins: list[Any] = []

    def sketch(self, texts: list[str]) -> None:
        from datasketch import MinHash

        self.mins = []
        for text in texts:
            m = MinHash(num_perm=NUM_PERM)
            m.update_batch([s.encode("utf-8") for s in dedup.shingles(text)])
            self.mins.append(m)

    def insert(self) -> None:
        with self.lsh.insertion_session() as session:
            for i, m in enumerate(self.mins):
                session.insert(i, m, check_duplication=False)

    def candidates(self, i: int) -> list[int]:
        m = self.mins[i]
        found = [j for j in self.lsh.query(m) if j != i]
        return [j for j in found if m.jaccard(self.mins[j]) >= dedup.SKETCH_FLOOR]

    def raw_candidates(self, i: int) -> int:
        return len([j for j in self.lsh.query(self.mins[i]) if j != i])


def run_method(method: Any, texts: list[str], shingles: list[set[str]]) -> dict[str, Any]:
    short = [len(dedup.words(t)) < dedup.MIN_WORDS for t in texts]
    t0 = time.perf_counter()
    method.sketch(texts)
    t1 = time.perf_counter()
    method.insert()
    t2 = time.perf_counter()
    found: set[tuple[int, int]] = set()
    confirmed_reads = 0
    raw = 0
    for i in range(len(texts)):
        if short[i]:
            continue
        candidates = method.candidates(i)
        raw += method.raw_candidates(i)
        confirmed_reads += len(candidates)
        for j in candidates:
            if not short[j] and dedup.jaccard(shingles[i], shingles[j]) >= 0.8:
                found.add((min(i, j), max(i, j)))
    t3 = time.perf_counter()
    return {
        "sketch_s": t1 - t0,
        "index_s": t2 - t1,
        "query_confirm_s": t3 - t2,
        "total_s": t3 - t0,
        "candidates_per_text": raw / len(texts),
        "texts_read_per_text": confirmed_reads / len(texts),
        "found": found,
    }


def test_cases() -> dict[str, Any]:
    """The decisions of tests/archive/test_dedup.py, for the library's estimate alone and
    for its LSH (does the pair become a candidate?)."""
    from datasketch import MinHash, MinHashLSH

    sys.path.insert(0, str(ROOT))
    from tests.archive.test_dedup import MEETING_A, MEETING_B, _pair_around_threshold

    above, below = _pair_around_threshold()
    edited = MEETING_A.replace("today adopted", "on Friday adopted").replace("next year", "2004")
    cases = {
        "republished (same text)": (MEETING_A, MEETING_A, True),
        "edited (two phrases)": (MEETING_A, edited, True),
        "same meeting, other release": (MEETING_A, MEETING_B, False),
        "just above the threshold": (MEETING_A, above, True),
        "just below the threshold": (MEETING_A, below, False),
    }

    def mh(text: str) -> Any:
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([s.encode("utf-8") for s in dedup.shingles(text)])
        return m

    out: dict[str, Any] = {}
    for name, (a, b, want) in cases.items():
        lsh = MinHashLSH(threshold=0.8, num_perm=NUM_PERM)
        lsh.insert("a", mh(a))
        lsh16 = MinHashLSH(threshold=0.8, num_perm=NUM_PERM, params=(16, 4))
        lsh16.insert("a", mh(a))
        estimate = mh(a).jaccard(mh(b))
        ours_keys = set(dedup.band_keys(a)) & set(dedup.band_keys(b))
        out[name] = {
            "exact_jaccard": round(dedup.similarity(a, b), 3),
            "want_duplicate": want,
            "ours_candidate": bool(ours_keys),
            "ours_decision_right": dedup.is_near_duplicate(a, b) == want,
            "datasketch_candidate": "a" in lsh.query(mh(b)),
            "datasketch_16x4_candidate": "a" in lsh16.query(mh(b)),
            "datasketch_estimate": round(estimate, 3),
            "datasketch_estimate_decision_right": (estimate >= 0.8) == want,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    texts, pairs = corpus(args.items, args.variants, args.seed)
    shingles = [dedup.shingles(t) for t in texts]
    truth = {
        (min(v, s), max(v, s))
        for v, s in pairs
        if dedup.jaccard(shingles[v], shingles[s]) >= dedup.JACCARD_THRESHOLD
    }
    methods = [Ours(), Library(None), Library((16, 4))]
    results: dict[str, Any] = {}
    for method in methods:
        r = run_method(method, texts, shingles)
        found = r.pop("found")
        r["variant_pairs_found"] = len(truth & found)
        r["variant_pairs_missed"] = len(truth - found)
        r["pairs_found_total"] = len(found)
        results[method.name] = r
    base = results[methods[0].name]
    for r in results.values():
        r["sketch_time_vs_ours"] = round(r["sketch_s"] / base["sketch_s"], 2)
        r["total_time_vs_ours"] = round(r["total_s"] / base["total_s"], 2)
        for key in ("sketch_s", "index_s", "query_confirm_s", "total_s"):
            r[key] = round(r[key], 3)
        for key in ("candidates_per_text", "texts_read_per_text"):
            r[key] = round(r[key], 2)
    report = {
        "texts": len(texts),
        "variant_pairs": len(pairs),
        "variant_pairs_at_or_above_0.8": len(truth),
        "methods": results,
        "test_cases": test_cases(),
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{len(texts)} texts, {len(truth)} of {len(pairs)} variant pairs at Jaccard >= 0.8")
        for name, r in results.items():
            print(
                f"{name:28} sketch {r['sketch_s']:.2f}s ({r['sketch_time_vs_ours']}x ours)  "
                f"total {r['total_s']:.2f}s ({r['total_time_vs_ours']}x)  "
                f"candidates/text {r['candidates_per_text']}  read/text "
                f"{r['texts_read_per_text']}  missed {r['variant_pairs_missed']}"
            )
        for name, c in report["test_cases"].items():
            print(f"  {name:30} {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
