#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader that meets a stranger's bytes (issue 44): the ticket
# reader, neighbour tables, the WordNet parser, the dataset readers and a base model's files
# (fuzz/fuzz_targets/). cargo-fuzz with libFuzzer on the nightly toolchain, no sanitizer (safe
# Rust; libFuzzer's own checks stay on): a panic, a single allocation over 256 MB (a header
# asking for more than its file holds) or 2 GB of RSS is a crash. Not part of CI.
# Usage: scripts/fuzz.sh [TARGET...]; FUZZ_SECONDS per target (default 600). The corpus is kept in
# fuzz/corpus/<target> between runs; crashes land in fuzz/artifacts/<target>; logs in fuzz/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
# The workspace's target folder (the seed writer is a workspace example) and the fuzz build's own
# (nightly, coverage-instrumented: nothing shared with the workspace's).
WORKSPACE_TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
FUZZ_TARGET="${FUZZ_TARGET_DIR:-$HOME/.cache/rticket/fuzz-target}"
export RTICKET_ASSETS="${RTICKET_ASSETS:-$PWD/assets}"
SECONDS_EACH=${FUZZ_SECONDS:-600}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(ticket neighbours wordnet dataset model_files)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if [ ! -d fuzz/seeds ]; then
  CARGO_TARGET_DIR="$WORKSPACE_TARGET" cargo build --workspace --all-targets
  "$WORKSPACE_TARGET/debug/examples/fuzz_seeds" fuzz/seeds
fi
export CARGO_TARGET_DIR="$FUZZ_TARGET"
cargo +nightly fuzz build -s none --release
mkdir -p fuzz/logs
crashed=()
for target in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  echo "[fuzz] $target for ${SECONDS_EACH}s"
  cargo +nightly fuzz run -s none --release "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$SECONDS_EACH" -malloc_limit_mb=256 -rss_limit_mb=2048 -print_final_stats=1 \
    >"fuzz/logs/$target.log" 2>&1 || { echo "[fuzz] $target: CRASH, see fuzz/logs/$target.log and fuzz/artifacts/$target" >&2; crashed+=("$target"); continue; }
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "fuzz/logs/$target.log" | grep -oE '[0-9]+$' || echo '?')
  echo "[fuzz] $target: $runs executions, no crash; corpus $(ls "fuzz/corpus/$target" | wc -l) files"
done
[ ${#crashed[@]} -eq 0 ] || { echo "[fuzz] crashed: ${crashed[*]} (each crash input becomes a regression test)" >&2; exit 1; }
