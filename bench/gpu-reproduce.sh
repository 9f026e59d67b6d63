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
#   run(command="bash bench/gpu-reproduce.sh run 'ARGS' ['ARGS' ...]", carry=["gpu-carry/b"], timeout_s=600)
#
# The second call joins the model (checked against setup.sh's sha256), then runs `rticket --device gpu
# reproduce ARGS` for each quoted ARGS at once on the GPU (they share it: at batch 16-32 a step is
# launch-bound; give each its own --seeds, and the same --results/--work as the CPU runs of that
# folder), each under a 540 s limit, and brings back every results/**/data in $OUT/records.tar.gz and
# the logs in $OUT/logs.tar.gz; untar the records in the repository root. The machine keeps the work
# folders while warm, so the same call again continues cut runs from their checkpoints. Session 22
# ran, with this folder's flags ("--phases core --train-limit 3200 --train-epochs 4 --retrain-epochs 1
# --search-epochs 4 --search-train-limit 3200 --search-eta 0.3 --search-lambda 5.0 --results
# results/experiments/equal-data-eta-lambda-retrain-1 --work runs/equal-data-eta-lambda-retrain-1"), "--methods
# no-adversary,reinit --seeds 2", the same for seed 3, and "--methods reinit --seeds 1".
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
  shift
  [ $# -gt 0 ] || { echo "name at least one set of reproduce arguments"; exit 2; }
  mkdir -p "$OUT/logs"
  # One process a set of arguments, started apart (plan.json is merged under a lock, but the
  # first shader compilations go faster without four at once).
  pids=()
  n=0
  for job in "$@"; do
    n=$((n + 1))
    echo "job $n: $job"
    # shellcheck disable=SC2086 # each job is a word list of reproduce arguments
    (timeout 540 "$stash/rticket" --device gpu reproduce $job 2>&1 | grep --line-buffered -v XDG_RUNTIME \
      >"$OUT/logs/job-$n.log"; echo "exit ${PIPESTATUS[0]} after $SECONDS s" >>"$OUT/logs/job-$n.log") &
    pids+=($!)
    sleep 5
  done
  (while :; do nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader >>"$OUT/logs/gpu.log"; sleep 5; done) &
  sampler=$!
  wait "${pids[@]}"
  kill "$sampler"
  tar -czf "$OUT/records.tar.gz" $(find results -type d -name data)
  tar -czf "$OUT/logs.tar.gz" -C "$OUT" logs && rm -rf "$OUT/logs"
  find results -name '*.json' -newer "$stash/ready" | sort
  ;;
*)
  echo "usage: bench/gpu-reproduce.sh stash | run 'REPRODUCE ARGS' ['REPRODUCE ARGS' ...]" >&2
  exit 2
  ;;
esac
