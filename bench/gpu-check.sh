#!/usr/bin/env bash
# The one prepared GPU check for a lent device machine (no network there, so no cargo): wgpu's
# adapters; the search-step benchmark (rticket on wgpu against PyTorch eager on CUDA, the same
# machine; MiniLM, length 64, K = 5, batch 32 then 128) with peak host and GPU memory; a
# kernel profile of the wgpu step at batch 32 (bench/kernel_profile.py: where the GPU time goes,
# and how much of the step it is); the CPU backend against PyTorch on the machine's CPU; then
# the quick pipeline's training stages on wgpu with their wall times. Most important first, and
# the log is written as it goes, so a run cut at its limit still brings back what it measured.
#
# It needs, in ignored folders beside the work tree:
#   gpu-carry/rticket-rel.xz   a stripped release build of this commit's trainer, xz-compressed
#   gpu-carry/minilm/          config.json, tokenizer.json and model.safetensors converted to F16
#                              (the 64 MiB carry limit; both loaders widen F16 to F32):
#                              python3 bench/to_f16.py assets/minilm/model.safetensors DST
#   gpu-carry/assets/data/     mr-sentences.csv
#   .gl/*.deb                  Debian's Vulkan loader and glvnd (the device image has NVIDIA's
#                              Vulkan ICD but no loader): o='-oAPT::Architecture=amd64
#                              -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64';
#                              mkdir -p .gl /tmp/amd64/partial; apt-get $o update; (cd .gl &&
#                              apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1
#                              libglx0 libgles2)
# Run with: run(command="bash bench/gpu-check.sh", carry=["gpu-carry", ".gl"], timeout_s=450).
# Everything lands in $OUT: gpu-check.log, kernel-profile.log.xz and pipeline-gpu.tar.gz (the
# stages' JSON records).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
cd "$repo/gpu-carry"

for f in "$repo"/.gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
glvnd=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$glvnd" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$glvnd
xz -dkf rticket-rel.xz && chmod +x rticket-rel
export RTICKET_ASSETS=$PWD/assets

# Runs a command under a time limit while sampling the GPU's used memory every 0.2 s.
run() {
  local limit=$1; shift
  echo "### $* (limit ${limit}s)"
  local started=$SECONDS
  (while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.2; done) >/tmp/gpu-mem 2>/dev/null &
  local sampler=$!
  timeout "$limit" "$@"
  local rc=$?
  kill "$sampler" 2>/dev/null
  echo "### exit $rc after $((SECONDS - started)) s; peak GPU memory used $(sort -n /tmp/gpu-mem | tail -1) MiB"
}

step="bench --what search-step --max-len 64 --adversarial-steps 5"
bench="$step --model minilm"
{
  echo "### $(date -u) $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo)"
  nvidia-smi -L
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  run 30 ./rticket-rel devices
  run 120 ./rticket-rel --device gpu $bench --batch-size 32 --repeats 10
  run 60 python3 "$repo/bench/search_step.py" --model minilm --device cuda --batch 32 --iters 10 --warmup 2
  # The profiled run reuses the autotune results cached by the run above (target/environment),
  # so its log holds three ordinary steps (one warm-up, two timed) and the model's loading.
  mkdir -p prof
  printf '[profiling]\nlogger = { level = "basic", file = "%s" }\n' /tmp/kernel-profile.log >prof/cubecl.toml
  (cd prof && run 90 ../rticket-rel --device gpu $step --model ../minilm --batch-size 32 --warmup 1 --repeats 2)
  python3 "$repo/bench/kernel_profile.py" /tmp/kernel-profile.log --steps 3 --top 30
  run 120 ./rticket-rel --device gpu $bench --batch-size 128 --repeats 10
  run 60 python3 "$repo/bench/search_step.py" --model minilm --device cuda --batch 128 --iters 10 --warmup 2
  run 60 python3 "$repo/bench/search_step.py" --model minilm --iters 3 --warmup 1
  run 60 ./rticket-rel --device cpu $bench --batch-size 32 --warmup 1 --repeats 1
  run 150 ./rticket-rel --device gpu pipeline --model minilm --preset quick --out /tmp/pipeline-gpu
} 2>&1 | grep --line-buffered -v XDG_RUNTIME | tee "$OUT/gpu-check.log"
# The training stages' records (config, metrics, timings); the attack stage needs WordNet, which
# does not fit the carry limit beside the model, so the pipeline stops before it there.
(cd /tmp && find pipeline-gpu -name '*.json' -o -name '*.jsonl' | tar -czf "$OUT/pipeline-gpu.tar.gz" -T -) 2>/dev/null
xz -9c /tmp/kernel-profile.log >"$OUT/kernel-profile.log.xz" 2>/dev/null
