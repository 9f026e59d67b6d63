#!/usr/bin/env bash
# Runs reproduction records on a lent GPU machine (no network, 64 MiB carried a call): the f32 MiniLM
# (87 MiB) does not fit one call beside the binary and the attack's word resources, so it travels in
# two calls back to back while the machine stays warm (30 s), which must be kept:
#
#   gpu-carry/a/  rticket.xz (stripped trainer, xz), assets.tar.xz (minilm's config, tokenizer and
#                 vocab, data/mr-sentences.csv, wordnet/, neighbours.safetensors), model.part1 (the
#                 first 35,000,000 bytes of minilm/model.safetensors)
#   gpu-carry/b/  model.part2 (the rest)
#   .gl/*.deb     the Vulkan loader and glvnd (see bench/gpu-check.sh)
#
#   run(command="bash bench/gpu-reproduce.sh stash", carry=["gpu-carry/a", ".gl"])
#   run(command="bash bench/gpu-reproduce.sh run", carry=["gpu-carry/b"], timeout_s=600)
#
# The second call joins the model (checked against setup.sh's sha256), then runs the `reproduce`
# invocations below at once on the GPU (they share it: at batch 32 one step is launch-bound) and
# brings back their records and logs in $OUT/records.tar.gz and $OUT/logs.tar.gz.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
stash=/root/stash
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
MODEL_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

case ${1:-} in
stash)
  for f in "$repo"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  rm -rf "$stash" && mkdir -p "$stash/assets" || exit 1
  xz -dc "$repo/gpu-carry/a/rticket.xz" >"$stash/rticket" && chmod +x "$stash/rticket" || exit 1
  tar -C "$stash/assets" -xJf "$repo/gpu-carry/a/assets.tar.xz" || exit 1
  cp "$repo/gpu-carry/a/model.part1" "$stash/" && touch "$stash/ready"
  nvidia-smi -L
  echo "stashed: $(du -sh "$stash" | cut -f1)"
  ;;
run)
  [ -f "$stash/ready" ] || { echo "no stash: the machine went back between the two calls; run the stash call again"; exit 3; }
  cat "$stash/model.part1" "$repo/gpu-carry/b/model.part2" >"$stash/assets/minilm/model.safetensors"
  got=$(sha256sum "$stash/assets/minilm/model.safetensors" | cut -d' ' -f1)
  [ "$got" = "$MODEL_SHA" ] || { echo "joined model has sha256 $got, expected $MODEL_SHA"; exit 4; }
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
  export RTICKET_ASSETS=$stash/assets
  cd "$repo"
  "$stash/rticket" devices 2>&1 | grep -v XDG_RUNTIME
  results=results/equal-data-eta-lambda-retrain-1
  common=(--device gpu reproduce --phases core --train-limit 3200 --train-epochs 4 --retrain-epochs 1
    --search-epochs 4 --search-train-limit 3200 --search-eta 0.3 --search-lambda 5.0
    --results "$results" --work runs/equal-data-eta-lambda-retrain-1)
  mkdir -p "$OUT/logs"
  # One process a seed; started apart so that each reads plan.json after the other has written it.
  pids=()
  for job in "no-adversary,reinit 2" "no-adversary,reinit 3" "reinit 1"; do
    set -- $job
    (timeout 540 "$stash/rticket" "${common[@]}" --methods "$1" --seeds "$2" 2>&1 | grep --line-buffered -v XDG_RUNTIME \
      >"$OUT/logs/seed-$2.log"; echo "exit ${PIPESTATUS[0]} after $SECONDS s" >>"$OUT/logs/seed-$2.log") &
    pids+=($!)
    sleep 5
  done
  (while :; do nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader >>"$OUT/logs/gpu.log"; sleep 5; done) &
  sampler=$!
  wait "${pids[@]}"
  kill "$sampler"
  tar -czf "$OUT/records.tar.gz" "$results/data"
  tar -czf "$OUT/logs.tar.gz" -C "$OUT" logs && rm -rf "$OUT/logs"
  tar -tzf "$OUT/records.tar.gz" | grep -E 'no-adversary|reinit'
  ;;
*)
  echo "usage: bench/gpu-reproduce.sh stash|run" >&2
  exit 2
  ;;
esac
