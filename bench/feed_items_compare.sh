#!/bin/bash
# Byte-identity check for a faster feed parser: every item, as a JSON line, of every feed
# that `make bench-normalize` reads (the feedparser and feed-rs corpora in EXTDATA) and of
# the recorded feeds in shared/offline, for several declared source languages, dumped by
# two builds of the bench_normalize example and compared.
#
#   bench/feed_items_compare.sh BASELINE_BINARY CANDIDATE_BINARY [EXTDATA] [WORK_DIR]
#
# BASELINE_BINARY is main's build (keep a copy of it: the build directory is overwritten);
# exits non-zero at the first language whose dump differs.
set -euo pipefail
baseline=$1 candidate=$2
extdata=${3:-$(cd "$(dirname "$0")/.." && pwd)/../shared/extdata}
work=${4:-$(mktemp -d)}
mkdir -p "$work"
repo=$(cd "$(dirname "$0")/.." && pwd)
list=$work/feeds.txt
if [ ! -d "$extdata/feedparser" ]; then
  echo "skipping: the corpora are absent from $extdata"
  exit 0
fi
# The same files, in the same order, as bench/normalize.py lists them.
find "$extdata/feedparser" "$extdata/feed-rs-fixture" -type f \
  \( -iname '*.xml' -o -iname '*.json' -o -iname '*.rss' -o -iname '*.atom' -o -iname '*.rdf' \) \
  | LC_ALL=C sort > "$list"
ls "$repo"/shared/offline/feeds/* "$repo"/shared/offline/news/* >> "$list"
status=0
for language in none id en ja ar ms; do
  args=(feed-items "$list")
  [ "$language" != none ] && args+=("$language")
  "$baseline" "${args[@]}" > "$work/baseline-$language.jsonl"
  "$candidate" "${args[@]}" > "$work/candidate-$language.jsonl"
  if cmp -s "$work/baseline-$language.jsonl" "$work/candidate-$language.jsonl"; then
    echo "$language: identical ($(wc -l < "$work/candidate-$language.jsonl") lines)"
  else
    echo "$language: DIFFERS (see $work/baseline-$language.jsonl and candidate-$language.jsonl)"
    status=1
  fi
done
exit $status
