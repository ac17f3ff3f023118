"""`make bench-normalize`: Pantau's normalize against the Python reference stack.

Both stacks parse the same files, listed in the same order: feeds (the feedparser and
feed-rs test corpora in ../shared/extdata) with feedparser, and the trafilatura
evaluation pages with trafilatura. Pantau's side is the release-built example
`bench_normalize` (its path is the first argument); this script times the reference in
the same process run, then prints throughput (MB/s, items/s) for each, the ratio, and
Pantau's peak memory parsing a generated 5 MB feed.

    python bench/normalize.py PATH/TO/bench_normalize EXTDATA_DIR WORK_DIR
"""

import json
import os
import subprocess
import sys
import time

FEED_SUFFIXES = (".xml", ".json", ".rss", ".atom", ".rdf")
PEAK_FEED_MB = 5
PEAK_FEED_LIMIT_MB = 64


def corpus_files(root, dirs, suffixes):
    files = []
    for d in dirs:
        for base, _, names in os.walk(os.path.join(root, d)):
            files.extend(
                os.path.join(base, n) for n in names if n.lower().endswith(suffixes)
            )
    return sorted(files)


def write_list(path, files):
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(files) + "\n")


def read_all(files):
    contents = []
    for path in files:
        with open(path, "rb") as f:
            contents.append((path, f.read()))
    return contents


def time_until_a_second(run, contents):
    """Runs the whole corpus until a second has passed; seconds, CPU seconds and items per
    pass."""
    start, cpu_start, passes, items = time.perf_counter(), time.process_time(), 0, 0
    while passes == 0 or time.perf_counter() - start < 1.0:
        items = run(contents)
        passes += 1
    seconds = (time.perf_counter() - start) / passes
    return seconds, (time.process_time() - cpu_start) / passes, items, passes


def feedparser_run(contents):
    import feedparser

    return sum(len(feedparser.parse(body).entries) for _, body in contents)


def trafilatura_run(contents):
    import trafilatura

    found = 0
    for _, body in contents:
        text = trafilatura.extract(body, url="https://example.org/article")
        found += 1 if text else 0
    return found


def eval_segments(extdata):
    """The trafilatura evaluation's segments by cache file name: (with, without)."""
    path = os.path.join(extdata, "trafilatura-eval", "evaldata.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    return {
        e["file"]: (e.get("with") or [], e.get("without") or [])
        for e in entries.values()
        if e.get("file")
    }


def score(texts, segments):
    """Precision, recall and F1 over the segments of the pages that have them, scored as
    `make quality` scores (shared/tests/quality/extraction.rs): a `with` segment found is a
    true positive, a `without` segment found a false positive."""
    tp = fn = fp = 0
    for name, (with_, without) in segments.items():
        if name not in texts:
            continue
        text = texts[name] or ""
        found = sum(1 for s in with_ if s in text)
        tp, fn = tp + found, fn + len(with_) - found
        fp += sum(1 for s in without if s in text)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def trafilatura_texts(contents):
    import trafilatura

    return {
        os.path.basename(path): trafilatura.extract(body, url="https://example.org/article")
        for path, body in contents
    }


def pantau_texts(text_dir):
    texts = {}
    for name in os.listdir(text_dir):
        with open(os.path.join(text_dir, name), encoding="utf-8") as f:
            texts[name[: -len(".txt")]] = f.read()
    return texts


def pantau(binary, *args):
    done = subprocess.run([binary, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(stack, corpus, files, size, items, seconds):
    mb = size / 1e6
    print(
        f"{stack:<22} {corpus:<7} {files:>6} {mb:>8.2f} {items:>7} {seconds:>9.3f}"
        f" {mb / seconds:>9.2f} {items / seconds:>11.0f}"
    )
    return mb / seconds


def main():
    binary, extdata, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    feeds = corpus_files(extdata, ["feedparser", "feed-rs-fixture"], FEED_SUFFIXES)
    pages = corpus_files(extdata, [os.path.join("trafilatura-eval", "cache")], ("",))
    if not feeds or not pages:
        print(f"skipping: the corpora are absent from {extdata}")
        return 0
    write_list(os.path.join(work, "feeds.txt"), feeds)
    write_list(os.path.join(work, "pages.txt"), pages)

    import feedparser
    import trafilatura

    print(f"reference: feedparser {feedparser.__version__}, trafilatura {trafilatura.__version__}")
    print(
        f"{'stack':<22} {'corpus':<7} {'files':>6} {'MB':>8} {'items':>7} {'s/pass':>9}"
        f" {'MB/s':>9} {'items/s':>11}"
    )
    ratios = []
    for corpus, files, reference, name in [
        ("feeds", feeds, feedparser_run, "feedparser"),
        ("pages", pages, trafilatura_run, "trafilatura"),
    ]:
        contents = read_all(files)
        size = sum(len(b) for _, b in contents)
        extra = [os.path.join(work, "pantau-texts")] if corpus == "pages" else []
        ours = pantau(binary, corpus, os.path.join(work, f"{corpus}.txt"), *extra)
        ours_rate = row("pantau", corpus, ours["files"], ours["bytes"], ours["items"], ours["seconds"])
        seconds, cpu_seconds, items, _ = time_until_a_second(reference, contents)
        their_rate = row(name, corpus, len(files), size, items, seconds)
        # The same ratio in CPU time: on a machine shared with other work, each stack's wall
        # time also measures whatever ran beside it at that moment.
        ours_cpu = ours.get("cpu_seconds")
        cpu_ratio = cpu_seconds / ours_cpu if ours_cpu else None
        ratios.append((corpus, name, ours_rate / their_rate, cpu_ratio))
    for corpus, name, ratio, cpu_ratio in ratios:
        cpu = f"; {cpu_ratio:.1f}x in CPU time" if cpu_ratio else ""
        print(f"ratio {corpus}: pantau is {ratio:.1f}x {name} (MB/s){cpu}")

    # Speed counts at equal or better quality: both extractions scored on the evaluation's
    # segments (same pages, same page URL given to both).
    segments = eval_segments(extdata)
    if segments:
        pages_contents = read_all(pages)
        for name, texts in [
            ("pantau", pantau_texts(os.path.join(work, "pantau-texts"))),
            ("trafilatura", trafilatura_texts(pages_contents)),
        ]:
            p, r, f1 = score(texts, segments)
            print(f"pages quality {name:<12} precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")

    peak = pantau(binary, "peak-feed", str(PEAK_FEED_MB))
    peak_mb = peak["vm_hwm_kb"] / 1024
    verdict = "ok" if peak_mb < PEAK_FEED_LIMIT_MB else "ABOVE"
    print(
        f"peak memory: {peak['bytes'] / 1e6:.1f} MB generated feed, {peak['items']} items in"
        f" {peak['seconds']:.3f} s, VmHWM {peak_mb:.1f} MB (limit {PEAK_FEED_LIMIT_MB} MB: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
