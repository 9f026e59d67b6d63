#!/usr/bin/env bash
# The browser end-to-end test (tests/browser/e2e.mjs): trains a small real ticket and dense
# classifier on MiniLM + MR, and a 3-class ticket on a generated topics CSV (a few minutes on 2
# cores), records the native trainer's answers,
# builds the page with trunk, and checks the page and the embedding example against them in
# headless Chromium. Screenshots land in target/browser-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS="${RTICKET_ASSETS:-$PWD/assets}"
OUT="${CARGO_TARGET_DIR:-$PWD/target}/browser-test"
WORK="$OUT/work"
rm -rf "$WORK" && mkdir -p "$WORK"
# The trainer as `cargo test --workspace` builds it: `cargo run -p rticket` alone would resolve
# other features for the shared dependencies and build burn a second time.
cargo build -q --workspace --all-targets
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/rticket"
rticket() { "$BIN" --device cpu "$@"; }

for f in minilm/model.safetensors wordnet/data.noun; do
  [ -f "$ASSETS/$f" ] || { echo "missing $ASSETS/$f: run scripts/setup.sh" >&2; exit 1; }
done
# The page's table: GloVe counter-fitted to WordNet, as natively, over the 20,000 most frequent
# words (6 MB, against 31 MB for the native 100,000).
if [ ! -f "$ASSETS/neighbours-page-v4.safetensors" ]; then
  echo "[browser] the page's neighbour table (once, ~1 min)"
  rticket neighbours --vocabulary 20000 --out "$ASSETS/neighbours-page-v4.safetensors"
fi
echo "[browser] a dense classifier and a mask-only ticket (small samples: minutes, not a benchmark)"
rticket finetune --preset quick --train-limit 256 --out "$WORK/finetune" > /dev/null
rticket search --mode mask-only --train-limit 256 --out "$WORK/search" > /dev/null
rticket draw --search "$WORK/search" --sparsity 0.3 --out "$WORK/draw" > /dev/null
TEXT="an intelligent , moving and funny film about growing up"
rticket classify --ticket "$WORK/draw/ticket-30.safetensors" "$TEXT" > "$WORK/native-ticket.json"
rticket classify --classifier "$WORK/finetune/classifier.safetensors" "$TEXT" > "$WORK/native-dense.json"
node -e '
  const fs = require("fs"); const [t, d, text, out] = process.argv.slice(1);
  const pick = (f) => { const j = JSON.parse(fs.readFileSync(f, "utf8")); return { label: j.label, probability: j.probability }; };
  fs.writeFileSync(out, JSON.stringify({ text, ticket: pick(t), dense: pick(d) }));
' "$WORK/native-ticket.json" "$WORK/native-dense.json" "$TEXT" "$WORK/expected.json"

echo "[browser] a 3-class ticket from a CSV of the user's own (topics: world, sports, business)"
{
  echo "text,label"
  for tail in today "on monday" "this week" "last night" "this morning"; do
    for s in "the president met foreign leaders" "elections were held across the country" "the minister signed a treaty"; do echo "$s $tail,world"; done
    for s in "the team won the final match" "the striker scored a late goal" "fans filled the stadium"; do echo "$s $tail,sports"; done
    for s in "the company reported higher profits" "shares fell after the earnings call" "the bank raised rates"; do echo "$s $tail,business"; done
  done
} > "$WORK/topics.csv"
rticket search --mode mask-only --data "$WORK/topics.csv" --out "$WORK/search-topics" > /dev/null
rticket draw --search "$WORK/search-topics" --data "$WORK/topics.csv" --sparsity 0.3 --out "$WORK/draw-topics" > /dev/null
THREE_TEXT="the goalkeeper saved a penalty in the match"
rticket classify --ticket "$WORK/draw-topics/ticket-30.safetensors" "$THREE_TEXT" > "$WORK/native-three.json"
node -e '
  const fs = require("fs"); const [f, text, out] = process.argv.slice(1);
  const j = JSON.parse(fs.readFileSync(f, "utf8"));
  fs.writeFileSync(out, JSON.stringify({ text, label: j.label, probability: j.probability, labels: Object.keys(j.probabilities) }));
' "$WORK/native-three.json" "$THREE_TEXT" "$WORK/expected-three.json"

echo "[browser] build the page"
trunk build
echo "[browser] headless Chromium"
DIST="$PWD/dist" ASSETS="$ASSETS" TICKET="$WORK/draw/ticket-30.safetensors" DENSE="$WORK/finetune/classifier.safetensors" \
  EXPECTED="$WORK/expected.json" THREE_TICKET="$WORK/draw-topics/ticket-30.safetensors" THREE_EXPECTED="$WORK/expected-three.json" OUT="$OUT" PLAYWRIGHT="$PWD/.tools/node_modules/playwright-core" \
  node tests/browser/e2e.mjs

echo "[browser] the site folder \`rticket site\` assembles (what \`make demo\` serves), served by \`rticket site --serve\`"
SITE_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# The binary itself in the background, not the `rticket` function: `$!` of a backgrounded function is
# its subshell, and killing that left the server running after the tests.
"$BIN" --device cpu site --bundle dist --ticket "$WORK/draw/ticket-30.safetensors" --ticket "$WORK/draw-topics/ticket-30.safetensors" \
  --dense "$WORK/finetune/classifier.safetensors" --out "$WORK/site" --serve --port "$SITE_PORT" > "$WORK/site.log" 2>&1 &
SITE_PID=$!
trap 'kill $SITE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q "serving" "$WORK/site.log" && break; kill -0 $SITE_PID 2>/dev/null || { cat "$WORK/site.log" >&2; exit 1; }; sleep 1; done
SITE_URL="http://127.0.0.1:$SITE_PORT/" EXPECTED="$WORK/expected.json" THREE_EXPECTED="$WORK/expected-three.json" OUT="$OUT" \
  PLAYWRIGHT="$PWD/.tools/node_modules/playwright-core" node tests/browser/site.mjs
