#!/usr/bin/env bash
# Every test of the project. Assumes scripts/setup.sh has run (make test does that).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[test] build, and the attacks' default neighbour table once (GloVe counter-fitted to WordNet, ~7 min on 2 cores)"
cargo build --workspace --all-targets
TABLE="${RTICKET_ASSETS:-$PWD/assets}/neighbours-v4.safetensors"
[ -f "$TABLE" ] || "${CARGO_TARGET_DIR:-target}/debug/rticket" --device cpu neighbours
echo "[test] cargo test (native: unit + integration tests on the real assets)"
cargo test --workspace
echo "[test] the attacks give the native golden results in wasm32 too (headless Chromium via wasm-bindgen-test)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER="$(command -v chromedriver)" \
  cargo test -p rticket-core --target wasm32-unknown-unknown --test native_and_wasm
echo "[test] shared and web crates build for wasm32-unknown-unknown"
cargo build -p rticket-core -p rticket-web --target wasm32-unknown-unknown
echo "[test] the wasm32 build vectorises burn-flex (its simd feature; +simd128 alone leaves gemm's kernels scalar)"
if ! cargo tree -p rticket-web --target wasm32-unknown-unknown -e features -i burn-flex | grep -q 'burn-flex feature "simd"'; then
  echo "burn-flex is built without its simd feature for wasm32: add \"simd\" to burn's features in web/Cargo.toml" >&2
  exit 1
fi
echo "[test] the page and the embedding example in headless Chromium (builds the bundle with trunk)"
scripts/browser-test.sh
echo "[test] all passed"
