#!/bin/bash
# What it checks: wskdp-gen runs on a net_pcap port (DPDK reads a capture
# as its wire and writes what the engine sends to another capture): the
# l2l3/ping fixture's ARP request and three echo requests come back as one
# ARP reply and three echo replies with the same ICMP ids, sequence numbers
# and payloads. Needs no root and no namespace.
# Usage: pcap_port.sh WSKDP_GEN SOURCE_ROOT
set -euo pipefail
gen=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$gen" --no-huge -m 256 --no-pci --no-shconf --no-telemetry -l 0 \
	--vdev="net_pcap0,rx_pcap=$src/pcaps/l2l3/ping.in.pcap,tx_pcap=$work/out.pcap" \
	-- --ip 10.0.0.1/24 --mac 02:00:00:00:00:01 --duration 1 >"$work/log" 2>&1 ||
	{ cat "$work/log"; echo "FAIL: wskdp-gen exited non-zero"; exit 1; }

/usr/bin/python3 - "$src/pcaps/l2l3/ping.in.pcap" "$work/out.pcap" <<'PY'
import struct, sys

def frames(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), "not a little-endian pcap"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out

sent_in, got = frames(sys.argv[1]), frames(sys.argv[2])
# Gratuitous ARP first, then the ARP reply, then one echo reply per request.
arp_replies = [f for f in got if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02"]
replies = [f for f in got if f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0]
requests = [f for f in sent_in if f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 8]
ok = True
if len(arp_replies) != 1:
    print(f"FAIL: {len(arp_replies)} ARP replies, want 1"); ok = False
if len(replies) != len(requests) or not requests:
    print(f"FAIL: {len(replies)} echo replies for {len(requests)} requests"); ok = False
for q, r in zip(requests, replies):
    qlen = struct.unpack(">H", q[16:18])[0]
    # id, sequence number and payload come back unchanged
    if q[38:14 + qlen] != r[38:14 + qlen]:
        print("FAIL: an echo reply does not echo its request"); ok = False
print("ok: net_pcap port answered ARP and every ping" if ok else "")
sys.exit(0 if ok else 1)
PY
