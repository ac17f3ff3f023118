#!/usr/bin/env bash
# Fuzzes every parser for a time budget and records what happened per target.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (make fuzz FUZZ_SECONDS=60)
#
# Seeds come from the project's fixtures and the public corpora in ../shared/extdata (skipped
# with a message where absent). cargo-fuzz needs a nightly compiler's flags; the stable
# toolchain accepts them with RUSTC_BOOTSTRAP=1. Findings land in fuzz/artifacts/TARGET/;
# each one becomes a regression test beside its parser. The table goes to stdout, and its rows
# replace the same targets' rows in fuzz/RESULTS.md's generated table (the rest is kept).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(feed kemlu usgs gdacs bmkg reliefweb article html_list date text hq)
extdata=../../shared/extdata
offline=../shared/offline
export RUSTC_BOOTSTRAP=1
# The instrumented build has compiler flags of its own: it gets a target directory of its
# own (FUZZ_TARGET_DIR, else fuzz/target), never the workspace's, which it would rebuild.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2

# seed DIR FILE...: copies the files (up to 2,000, none above 1 MB) into DIR.
seed() {
  local dir=$1; shift
  mkdir -p "$dir"
  local n=0
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le 1048576 ] || continue
    cp "$f" "$dir/$(echo "$f" | sha1sum | cut -c1-16)"
    n=$((n + 1)); [ $n -lt 2000 ] || break
  done
}
if [ ! -d "$extdata" ]; then
  echo "note: $extdata is absent; seeding from the project's own fixtures only"
fi
shopt -s nullglob globstar
seed seeds/feed "$offline"/feeds/* "$offline"/news/* "$extdata"/feed-rs-fixture/**/*.xml \
  "$extdata"/feed-rs-fixture/**/*.json "$extdata"/feedparser/tests/**/*.xml
seed seeds/kemlu "$offline"/portal/**/*.json
seed seeds/usgs "$offline"/hazard/usgs* ../shared/src/parse/testdata/usgs*
seed seeds/gdacs "$offline"/hazard/gdacs* ../shared/src/parse/testdata/gdacs*
seed seeds/bmkg "$offline"/hazard/bmkg* ../shared/src/parse/testdata/bmkg*
seed seeds/reliefweb ../shared/src/parse/testdata/reliefweb* "$offline"/hazard/reliefweb*
seed seeds/article "$extdata"/trafilatura-eval/cache/*.html
seed seeds/html_list "$extdata"/trafilatura-eval/cache/*.html
seed seeds/text "$offline"/feeds/* "$extdata"/feedparser/tests/entities/*.xml "$extdata"/feedparser/tests/encoding/*.xml
# Headquarters files: the first byte picks the format (0 CSV, 1 JSON, 2 .xlsx).
mkdir -p seeds/hq
printf '\000mission,tanggal,judul,jumlah WNI\ntokyo,2026-03-02,Pendataan WNI,120\nriyadh,14/03/2026,"Repatriasi PMI; 45 orang",45\n' > seeds/hq/csv
printf '\001[{"mission": "riyadh", "date": "2026-03-14", "title": "Repatriation of migrant workers", "evacuated": 45}]' > seeds/hq/json
printf '\001{"mission": "tokyo", "date": "2026-03-02", "title": "Kunjungan"}\n{"mission": "x"}\n' > seeds/hq/jsonl
printf '\002PK\003\004' > seeds/hq/xlsx
mkdir -p seeds/date
printf '%s' "Senin (16/12/2024)" > seeds/date/a
printf '%s' "10 September 2019 13:07" > seeds/date/b
printf '%s' "12 Des 2025 14:35:21 WIB" > seeds/date/c
printf '%s' "Tue, 10 Jun 2003 04:00:00 GMT" > seeds/date/d
printf '%s' "2 jam lalu" > seeds/date/e
printf '%s' "2025-06-01T10:00:00+07:00" > seeds/date/f
printf '%s' "1717236000" > seeds/date/g

cargo fuzz build -O -s none

results=$(mktemp)
printf '| target | seconds | executions | exec/s | corpus | findings |\n| --- | ---: | ---: | ---: | ---: | ---: |\n' > "$results"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t.log"
  # -rss_limit_mb: a parser that needs more than 512 MB for one input is a finding too.
  set +e
  cargo fuzz run -O -s none "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=512 -max_len=1048576 -timeout=10 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  corpus=$(find "corpus/$t" -type f | wc -l)
  findings=$(find "artifacts/$t" -type f | wc -l)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$seconds" "${execs:-0}" "${rate:-0}" "$corpus" "$findings" | tee -a "$results"
done
# RESULTS.md is mostly written by hand (findings, fixes); this script owns only the table
# between the markers, one row per target, and replaces just the rows of the targets it ran.
python3 - "$results" RESULTS.md "$(date -u +%Y-%m-%d)" "$(nproc)" <<'PY'
import sys
results, doc_path, day, cores = sys.argv[1:]
begin = "<!-- fuzz/run.sh: the latest run per target -->"
end = "<!-- end of the table fuzz/run.sh writes -->"
header = ("| target | last run | cores | seconds | executions | exec/s | corpus | findings |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
new = {}
for line in open(results).read().splitlines()[2:]:
    cells = [c.strip() for c in line.strip("|").split("|")]
    new[cells[0]] = f"| {cells[0]} | {day} | {cores} | " + " | ".join(cells[1:]) + " |"
try:
    doc = open(doc_path).read()
except FileNotFoundError:
    doc = "# Fuzzing results\n\n"
if begin in doc and end in doc:
    before, rest = doc.split(begin, 1)
    old, after = rest.split(end, 1)
else:
    before, old, after = doc.rstrip("\n") + "\n\n", "", "\n"
rows = {}
for line in old.splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if line.startswith("| ") and cells[0] not in ("target", "---"):
        rows[cells[0]] = line
rows.update(new)
table = "\n".join([header] + [rows[t] for t in sorted(rows)])
open(doc_path, "w").write(f"{before}{begin}\n{table}\n{end}{after}")
PY
echo; cat "$results"
! grep -q '| [1-9][0-9]* |$' "$results"
