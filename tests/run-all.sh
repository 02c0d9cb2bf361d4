#!/bin/bash
# The README's test command: install dependencies, build twice (plain, and
# with AddressSanitizer + UndefinedBehaviorSanitizer) and run every test in
# both. Tests that need root or namespaces skip (exit 77) only when the
# capability is missing, and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps

build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir"
}

build build
build build-asan -Db_sanitize=address,undefined -Db_lundef=false

status=0
echo "== tests (plain build)"
meson test -C build --print-errorlogs || status=1
echo "== tests (address + undefined sanitizers)"
# DPDK's EAL keeps a few process-lifetime allocations; leaks are checked by
# the suites' own mbuf/connection accounting instead of LeakSanitizer.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs || status=1
exit $status
