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
  elif [ $# -gt 0 ]; then
    # An existing directory takes this script's current options too.
    meson configure "$dir" "$@"
  fi
  ninja -C "$dir"
}

build build
# No link-time optimisation under the sanitizers: it buys them nothing
# and costs minutes of linking. -O1, as the sanitizers' own documentation
# suggests: built back to back on two cores, the instrumented -O3 build
# took 190 s and -O1 110 s; the suite runs about 10% slower, far less.
build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
  -Doptimization=1

status=0
echo "== tests (plain build)"
meson test -C build --print-errorlogs || status=1
echo "== tests (address + undefined sanitizers)"
# LeakSanitizer on: every program frees what it took, EAL included
# (rte_eal_cleanup), on top of the suites' own mbuf/connection accounting.
# The kernel interop tests run lighter here (20 MB per transfer instead of
# 100 MB, 200 short connections instead of 1,000, 100 load-generator
# connections instead of 500, losses 0 and 5% without the 1% in between):
# this pass looks for memory errors, the plain pass already ran the full
# sizes, and the whole suite stays within minutes.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
TCP_INTEROP_BYTES=20000000 TCP_INTEROP_CONNS=200 TCP_INTEROP_LOSS="0 5" \
GEN_INTEROP_CONNS=100 \
  meson test -C build-asan --print-errorlogs || status=1
# One closing line over both builds, from meson's own JSON logs.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"wskdp: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
