# The two commands of the README. Both run the idempotent set-up step first.
.PHONY: setup run test

setup:
	scripts/setup.sh

# The main job on the embedded default (MiniLM + MR), quick preset.
run: setup
	cargo run -p rticket -- pipeline --preset quick

# Every test: unit and integration tests on the real assets, and the wasm32 build.
test: setup
	scripts/test.sh
