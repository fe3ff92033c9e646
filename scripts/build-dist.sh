#!/usr/bin/env bash
# Builds the distribution `kiln` at target/dist/kiln: the `dist` profile (fat
# LTO, one codegen unit) plus profile-guided optimisation of the compiler
# itself, trained by compiling the sightglass programs and the examples for
# every target, both tiers. It compiles Wasm about a sixth faster than
# target/release/kiln (docs/performance.md, "The compiler's own build").
#
# Needs the test corpus ($KILN_CORPUS, default ../shared/corpus) for training
# and rustup's llvm-tools component (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

export KILN_CORPUS=${KILN_CORPUS:-$(cd .. && pwd)/shared/corpus}
if [ ! -d "$KILN_CORPUS/sightglass" ]; then
  echo "build-dist: training corpus not found at $KILN_CORPUS: set KILN_CORPUS to the folder with sightglass/" >&2
  exit 1
fi

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  echo "build-dist: rustup component add llvm-tools"
  rustup component add llvm-tools
fi

# One target dir for both builds; `--target` keeps RUSTFLAGS off build scripts.
work=$PWD/target/pgo
build() {
  RUSTFLAGS="$1" cargo build --quiet --profile dist -p kiln-compiler --target "$host" --target-dir "$work"
}

echo "build-dist: instrumented build"
rm -rf "$work/raw"
build "-Cprofile-generate=$work/raw"
kiln="$work/$host/dist/kiln"

echo "build-dist: training"
mapfile -t modules < <(find "$KILN_CORPUS/sightglass" examples -name '*.wasm' | sort)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for m in "${modules[@]}"; do
  for args in "--target x86_64-unknown-linux-gnu" \
    "--target x86_64-unknown-linux-gnu --opt-level none" \
    "--target aarch64-unknown-none --bounds-checks guard" \
    "--target riscv64gc-unknown-none-elf --bounds-checks guard" \
    "--target riscv64gc-unknown-none-elf --bounds-checks explicit"; do
    # shellcheck disable=SC2086 # $args is a list of flags
    LLVM_PROFILE_FILE="$work/raw/kiln-%m.profraw" "$kiln" compile $args "$m" -o "$out/m.o"
  done
done
"$profdata" merge -o "$work/kiln.profdata" "$work/raw"

echo "build-dist: optimised build"
build "-Cprofile-use=$work/kiln.profdata"
mkdir -p target/dist
cp "$work/$host/dist/kiln" target/dist/kiln
echo "build-dist: target/dist/kiln (${#modules[@]} training modules)"
