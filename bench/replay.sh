#!/bin/bash
# wskdp-replay's two figures, no NIC or root needed:
#  - live: sessions (flows) per second replaying http_keepalive.pcap (one
#    HTTP/1.1 connection, 3 requests, 7020 bytes back) against the engine's
#    own replay server over an in-memory net_ring link, both engines polled
#    by one thread, every answer compared byte for byte;
#  - raw: frames per second of raw replay at top speed into a net_pcap port
#    writing to /dev/null.
# Usage: bench/replay.sh [BUILD_DIR] (default: build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
replay=$build/apps/wskdp-replay
fx=$src/pcaps/replay
[ -x "$replay" ] || { echo "bench/replay.sh: build $replay first" >&2; exit 1; }

echo "== live: $replay -- --mode live --pcap $fx/http_keepalive.pcap --self-test --repeat 50000 --parallel 64"
"$replay" -- --mode live --pcap "$fx/http_keepalive.pcap" --self-test \
	--repeat 50000 --parallel 64 2>&1 | grep -E '^sessions'

echo "== raw: $replay [EAL] --vdev=net_pcap0,tx_pcap=/dev/null -- --mode raw --pcap $fx/multi_turn.pcap --topspeed --loop 20000"
"$replay" --no-huge -m 256 --no-pci --no-shconf --no-telemetry -l 0 \
	--log-level=lib.eal:error --vdev=net_pcap0,tx_pcap=/dev/null -- \
	--mode raw --pcap "$fx/multi_turn.pcap" --topspeed --loop 20000 2>&1 | grep -E '^raw'
