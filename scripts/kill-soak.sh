#!/usr/bin/env bash
# Kill soak (issue 44): a short mask search is killed with SIGKILL at KILLS random instants,
# some of them just after an epoch ends (while its checkpoint is being written), and resumed
# each time; the finished run's scores and step log must equal an uninterrupted run's bit for bit.
# Not part of CI (about 20 minutes on 2 cores). Usage: scripts/kill-soak.sh [KILLS] [OUT]
set -euo pipefail
KILLS=${1:-20}
OUT=${2:-runs/kill-soak}
BIN=${RTICKET_BIN:-${CARGO_TARGET_DIR:-target}/debug/rticket}
[ -x "$BIN" ] || { echo "no rticket binary at $BIN: run cargo build -p rticket (or set RTICKET_BIN)" >&2; exit 2; }
mkdir -p "$OUT"
say() { echo "[kill-soak] $*"; }

start="$OUT/finetune/classifier.safetensors"
if [ ! -f "$start" ]; then
  say "fine-tuning the start (64 sentences, 1 epoch)"
  "$BIN" --device cpu finetune --preset quick --train-limit 64 --epochs 1 --out "$OUT/finetune" >/dev/null 2>"$OUT/finetune.log"
fi
# Long enough (30 short epochs) that KILLS tries, each resuming and training an epoch or two, end
# before the run does.
search=(--device cpu search --mode paper --preset quick --train-limit 48 --epochs 30 --adv-steps 1 --start "$start")

rm -rf "$OUT/straight" "$OUT/killed"
say "the uninterrupted run"
t0=$(date +%s.%N)
"$BIN" "${search[@]}" --out "$OUT/straight" >/dev/null 2>"$OUT/straight.log"
length=$(echo "$(date +%s.%N) - $t0" | bc)
say "took ${length}s"

resumes=0
for i in $(seq 1 "$KILLS"); do
  flag=(); [ -d "$OUT/killed" ] && flag=(--resume)
  log="$OUT/killed-$i.log"
  "$BIN" "${search[@]}" --out "$OUT/killed" "${flag[@]}" >/dev/null 2>"$log" &
  pid=$!
  if (( i % 4 == 0 )); then
    # Just after an epoch's line: its checkpoint is being written.
    until grep -q " epoch [0-9]*: train loss" "$log" 2>/dev/null || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done
    sleep "0.$(( RANDOM % 400 ))"
    when="after an epoch line"
  else
    # Over the first tenth of a whole run's length: a try resumes, trains an epoch or two at most.
    delay=$(echo "scale=2; $length * $RANDOM / 32767 / 10" | bc)
    sleep "$delay"
    when="at ${delay}s"
  fi
  if kill -9 $pid 2>/dev/null; then
    wait $pid 2>/dev/null || true
    say "kill $i: SIGKILL $when ($(grep -c ' epoch [0-9]*: train loss' "$log" || true) epoch(s) finished in this try)"
    resumes=$((resumes + 1))
  else
    wait $pid || true
    say "kill $i: the run had finished before the kill ($when)"
    break
  fi
done
say "finishing the killed run"
"$BIN" "${search[@]}" --out "$OUT/killed" --resume >/dev/null 2>"$OUT/killed-final.log" || {
  # A run that finished before its kill refuses a second --resume; its outputs stand.
  grep -q "already holds a finished run" "$OUT/killed-final.log" || { cat "$OUT/killed-final.log" >&2; exit 1; }
}

python3 - "$OUT/straight" "$OUT/killed" <<'PY'
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n]); header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]) for k, v in header.items()}
a, b = (tensors(f"{d}/scores.safetensors") for d in sys.argv[1:3])
assert a.keys() == b.keys(), "different tensors"
bad = [k for k in a if a[k] != b[k]]
steps = [open(f"{d}/steps.jsonl").read() for d in sys.argv[1:3]]
print(f"[kill-soak] scores: {len(a) - len(bad)}/{len(a)} tensors bit-identical; step log identical: {steps[0] == steps[1]}")
sys.exit(1 if bad or steps[0] != steps[1] else 0)
PY
say "$resumes of $KILLS kills made, resumed each time: the final scores equal the uninterrupted run's"
(( resumes == KILLS )) || { say "the run finished before all $KILLS kills: lengthen it"; exit 1; }
