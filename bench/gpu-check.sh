#!/usr/bin/env bash
# The one prepared GPU check (device machine: no network, so no cargo there). It needs, in the
# ignored folder gpu-carry/: rticket-rel.xz (a stripped release build of this commit's trainer,
# xz-compressed), minilm/ (config.json, tokenizer.json, model.safetensors converted to F16 to fit
# the 64 MiB carry limit; the loader widens F16 to F32), assets/data/mr-sentences.csv and
# lib/libvulkan.so.1 (Debian's Vulkan loader).
set -uo pipefail
cd "$(dirname "$0")/../gpu-carry"
xz -dkf rticket-rel.xz && chmod +x rticket-rel
export RTICKET_ASSETS=$PWD/assets
# The device image has NVIDIA's Vulkan ICD but no Vulkan loader: carry Debian's libvulkan.so.1.
[ -d lib ] && export LD_LIBRARY_PATH=$PWD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
OUT=${OUT:-/tmp/out}
run() { echo "### $*"; "$@"; echo "### exit $?"; }
{
  run nvidia-smi -L
  run ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d
  run ./rticket-rel devices
  run ./rticket-rel --device gpu bench --model minilm --sentences 1024 --repeats 3
  run timeout 300 ./rticket-rel --device gpu pipeline --model minilm --preset quick --out /tmp/pipeline-gpu
} 2>&1 | grep -v XDG_RUNTIME | tee "$OUT/gpu-check.log"
