#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): installs what is
# missing (Rust targets, QEMU), checks formatting and lints, builds once, then
# runs every test: unit tests, the spec suite on the host and on each QEMU
# board, the CLI, WASI and program tests.
#
# The test corpora come from $KILN_CORPUS (default: ../shared/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export KILN_CORPUS=${KILN_CORPUS:-$(cd .. && pwd)/shared/corpus}
if [ ! -d "$KILN_CORPUS/spec" ]; then
  echo "test corpus not found at $KILN_CORPUS: set KILN_CORPUS to the folder with spec/, wasi-testsuite/ and sightglass/" >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --all -- --check
for b in boards/*/; do (cd "$b" && cargo fmt -- --check); done

step "build"
cargo build --release --workspace --all-targets

step "lint"
cargo clippy --release --workspace --all-targets -- -D warnings
for b in boards/*/; do
  target=$(sed -n 's/^rust-target = "\(.*\)"/\1/p' "$b/board.toml")
  (cd "$b" && cargo clippy --quiet --target "$target" --target-dir ../../target/boards-clippy -- -D warnings)
done
for t in x86_64-unknown-none aarch64-unknown-none riscv64gc-unknown-none-elf; do
  cargo build --quiet -p kiln-runtime --target "$t" --target-dir target/runtime-nostd
done

step "board libraries (built once, before the tests run in parallel)"
for b in host qemu-virt-aarch64 qemu-virt-riscv64 qemu-x86_64; do
  target/release/kiln run --board "$b" examples/hello.wat
done

step "tests"
cargo test --release --workspace
