"""Paired normalize benchmark: two builds of `bench_normalize` (a baseline, e.g. main's, and a
candidate) and the Python reference, run in turns on the same files in one command, so a
machine shared with other work slows all of them alike.

    python bench/normalize_paired.py BASELINE_BIN CANDIDATE_BIN EXTDATA WORK_DIR [ROUNDS]

Each round runs, per corpus, the baseline, the candidate and the reference (feedparser for
feeds, trafilatura for pages), each over the whole corpus until a second has passed, and
records CPU seconds per pass. The corpora: the public feeds and pages `normalize.py` reads,
and the recorded feeds of shared/offline (the Google News ones are what production reads
most). Printed: the median CPU seconds per pass of each and the ratios (reference over
each build, baseline over candidate), with the load average at the start and the end.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from normalize import (  # noqa: E402
    FEED_SUFFIXES,
    corpus_files,
    feedparser_run,
    pantau,
    read_all,
    time_until_a_second,
    trafilatura_run,
    write_list,
)


def main():
    baseline, candidate, extdata, work = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    os.makedirs(work, exist_ok=True)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    offline = os.path.join(repo, "shared", "offline")
    corpora = [
        (
            "feeds",
            "feeds",
            corpus_files(extdata, ["feedparser", "feed-rs-fixture"], FEED_SUFFIXES),
            feedparser_run,
        ),
        (
            "google-news",
            "feeds",
            sorted(
                os.path.join(offline, "news", n)
                for n in os.listdir(os.path.join(offline, "news"))
                if n.startswith("google-")
            ),
            feedparser_run,
        ),
        (
            "offline",
            "feeds",
            corpus_files(offline, ["feeds", "news"], FEED_SUFFIXES),
            feedparser_run,
        ),
        (
            "pages",
            "pages",
            corpus_files(extdata, [os.path.join("trafilatura-eval", "cache")], ("",)),
            trafilatura_run,
        ),
    ]
    corpora = [c for c in corpora if c[2]]
    print(f"load average at start: {os.getloadavg()}")
    cpu = {}
    for _ in range(rounds):
        for name, mode, files, reference in corpora:
            listed = os.path.join(work, f"{name}.txt")
            write_list(listed, files)
            for stack, binary in [("baseline", baseline), ("candidate", candidate)]:
                cpu.setdefault((name, stack), []).append(pantau(binary, mode, listed)["cpu_seconds"])
            _, reference_cpu, _, _ = time_until_a_second(reference, read_all(files))
            cpu.setdefault((name, "reference"), []).append(reference_cpu)
    print(f"load average at end: {os.getloadavg()}")
    print(f"{rounds} rounds; median CPU seconds per pass")
    print(f"{'corpus':<12} {'files':>5} {'baseline':>10} {'candidate':>10} {'reference':>10}"
          f" {'ref/base':>9} {'ref/cand':>9} {'base/cand':>9}")
    for name, _, files, reference in corpora:
        base, cand, ref = (statistics.median(cpu[(name, s)]) for s in ("baseline", "candidate", "reference"))
        print(f"{name:<12} {len(files):>5} {base:>10.4f} {cand:>10.4f} {ref:>10.4f}"
              f" {ref / base:>8.1f}x {ref / cand:>8.1f}x {base / cand:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
