#!/usr/bin/env bash
# Installs what Kiln needs on a fresh machine, and only what is missing:
# the Rust targets for the boards and, unless KILN_SKIP_QEMU=1, the QEMU system
# emulators for aarch64, riscv64 and x86_64. Safe to run again; prints what it does.
set -euo pipefail

need_targets=(aarch64-unknown-none riscv64gc-unknown-none-elf x86_64-unknown-none)
installed=$(rustup target list --installed 2>/dev/null || true)
missing=()
for t in "${need_targets[@]}"; do
  grep -qx "$t" <<<"$installed" || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: rustup target add ${missing[*]}"
  rustup target add "${missing[@]}"
fi

[ "${KILN_SKIP_QEMU:-0}" = 1 ] && exit 0

have_qemu() {
  command -v qemu-system-aarch64 >/dev/null && command -v qemu-system-riscv64 >/dev/null &&
    command -v qemu-system-x86_64 >/dev/null
}
have_qemu && exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null; then
  echo "setup: QEMU is missing; install qemu-system-aarch64, qemu-system-riscv64 and qemu-system-x86_64 with your package manager" >&2
  exit 1
fi

echo "setup: installing QEMU system emulators (apt-get)"
# Debian bookworm images that carry qemu-utils from bookworm-backports cannot
# install bookworm's qemu-system-* (version conflict): take them from backports,
# given as apt options so /etc/apt stays untouched.
if [ -f /etc/apt/sources.list.d/debian.sources ] && grep -q bookworm /etc/apt/sources.list.d/debian.sources &&
   dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q bpo; then
  src=$(mktemp -d)
  cp /etc/apt/sources.list.d/debian.sources "$src/"
  uris=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  key=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' "$uris" "$key" >>"$src/debian.sources"
  opts=(-o "Dir::Etc::SourceParts=$src" -o Dir::Etc::SourceList=/dev/null)
  $sudo apt-get "${opts[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get "${opts[@]}" -t bookworm-backports install -y -qq --no-install-recommends \
    qemu-system-arm qemu-system-riscv qemu-system-x86 >/dev/null
  rm -rf "$src"
else
  $sudo apt-get update -qq
  pkgs=(qemu-system-arm qemu-system-x86)
  if apt-cache show qemu-system-riscv >/dev/null 2>&1; then pkgs+=(qemu-system-riscv); else pkgs+=(qemu-system-misc); fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
have_qemu || { echo "setup: QEMU install did not provide all three emulators" >&2; exit 1; }
echo "setup: QEMU $(qemu-system-riscv64 --version | head -1)"
