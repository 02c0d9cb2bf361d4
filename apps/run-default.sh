#!/bin/bash
# The README's main command: install dependencies, build everything, and
# run wskdp-gen on its embedded default (no NIC, no hugepages needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
[ -f build/build.ninja ] || meson setup build
ninja -C build
exec ./build/apps/wskdp-gen "$@"
