# The two commands of the README. Both run the idempotent set-up step first.
.PHONY: setup run test bundle demo

setup:
	scripts/setup.sh

# The main job on the embedded default (MiniLM + MR), quick preset. Built as `make test` builds
# it (cargo run -p rticket alone resolves other dependency features and would build burn twice).
run: setup
	cargo build --workspace --all-targets
	"$${CARGO_TARGET_DIR:-target}/debug/rticket" pipeline --preset quick

# Every test: unit and integration tests on the real assets, and the wasm32 build.
test: setup
	scripts/test.sh

# The static site for deployment: a release wasm32 build, shrunk by wasm-opt -Oz (binaryen from
# .tools/, installed by the set-up step), into dist/.
bundle: setup
	PATH="$(CURDIR)/.tools/node_modules/.bin:$$PATH" trunk build --release

# The page on localhost with the newest `make run`'s tickets: the release bundle, then a site
# folder (runs/site: page, base model, word resources, tickets, manifest.json) served at :8080.
demo: bundle
	cargo build --workspace --all-targets
	"$${CARGO_TARGET_DIR:-target}/debug/rticket" site --serve
