#!/bin/bash
# What it checks: wskdp-replay on net_af_packet replays the recorded client
# side against real servers in a network namespace and judges their answers:
#  - http_keepalive.pcap against Debian's nginx serving the files the
#    fixture recorded (same bytes, same mtime, so ETag and Last-Modified
#    agree), comparing everything but the Date headers (a mask): matched;
#  - multi_turn.pcap against pcaps/replay/fixture_peer.py serve, exact:
#    matched;
#  - nginx serving 2.txt with byte 123 changed: differed, at the stream
#    offset of that byte (computed here from the capture's frames, not by
#    the replay), exit status 1.
# Usage: replay_servers.sh WSKDP_REPLAY SOURCE_ROOT
# Needs root, ip netns, veth, nginx, python3; exits 77 (skipped) without.
set -euo pipefail
replay=$1
src=$2
fx=$src/pcaps/replay

. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and veth)"
for tool in ip nginx python3 ethtool; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

id=$$
ns_eng=wrpE$id
ns_srv=wrpS$id
if_eng=wrpe$id
if_srv=wrps$id
prefix=wrp$id
# The recorded server address, so the flows go where they went.
srv_ip=10.77.0.1
eng_ip=10.77.0.2
work=$(mktemp -d)
chmod 755 "$work"	# nginx workers run as nobody
pids=()

cleanup() {
	local rc=$?

	trap - EXIT
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns_eng" 2>/dev/null || true
	ip netns del "$ns_srv" 2>/dev/null || true
	rm -rf "/var/run/dpdk/$prefix" "$work"
	exit "$rc"
}
trap cleanup EXIT

ip netns add "$ns_eng" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$ns_srv"
ip -n "$ns_eng" link add "$if_eng" type veth peer name "$if_srv" netns "$ns_srv" ||
	skip "cannot create a veth pair"
ip netns exec "$ns_eng" sysctl -qw "net.ipv6.conf.$if_eng.disable_ipv6=1" 2>/dev/null || true
ip -n "$ns_eng" link set "$if_eng" up
ip -n "$ns_srv" addr add "$srv_ip/24" dev "$if_srv"
ip -n "$ns_srv" link set "$if_srv" up
ip -n "$ns_srv" link set lo up
# Whole segments with real checksums, as af_packet on the other end needs.
ip netns exec "$ns_srv" ethtool -K "$if_srv" tso off gso off gro off tx off >/dev/null
ip netns exec "$ns_eng" ethtool -K "$if_eng" tso off gso off gro off tx off >/dev/null

# nginx configured like make_fixtures.sh; files with the recorded bytes and
# mtime (the capture's ETag "6b0b280f-...": 0x6b0b280f seconds).
mkdir -p "$work/www" "$work/nginx"
python3 -c "
import os, sys
for name, n in (('1.txt', 1000), ('2.txt', 5000), ('3.txt', 300)):
    p = sys.argv[1] + '/' + name
    open(p, 'wb').write(bytes(65 + i % 26 for i in range(n)))
    os.utime(p, (0x6b0b280f, 0x6b0b280f))
" "$work/www"
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	default_type text/plain;
	keepalive_timeout 30;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen $srv_ip:80;
		root $work/www;
	}
}
EOF
ip netns exec "$ns_srv" nginx -c "$work/nginx.conf" -p "$work/nginx" &
pids+=($!)
ip netns exec "$ns_srv" python3 -u "$fx/fixture_peer.py" serve "$srv_ip" 7000 0 \
	>"$work/peer.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	grep -q ready "$work/peer.log" 2>/dev/null &&
		ip netns exec "$ns_srv" python3 -c "import socket; socket.create_connection(('$srv_ip', 80), 1)" \
		2>/dev/null && break
	sleep 0.1
done
pass "nginx and fixture_peer.py serving on $srv_ip in $ns_srv"

run_replay() {
	ip netns exec "$ns_eng" "$replay" --no-huge -m 256 --no-pci \
		--file-prefix="$prefix" -l 0 \
		--vdev="net_af_packet0,iface=$if_eng" -- --ip "$eng_ip/24" \
		--timeout 5000 --linger 200 "$@"
}
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

printf '# nginx writes the time of the answer\n* header Date\n' >"$work/mask"
run_replay --mode live --pcap "$fx/http_keepalive.pcap" --compare "mask:$work/mask" \
	--json "$work/http.json" >"$work/log" 2>&1 || { cat "$work/log"; fail "http_keepalive against nginx did not match"; }
[ "$(json "$work/http.json" "(j['totals']['matched'], j['sessions'][0]['received'])")" = "(1, 7020)" ] ||
	fail "http_keepalive: not 1 match of 7020 bytes"
pass "http_keepalive.pcap against nginx (Date masked): matched, 7020 bytes"

run_replay --mode live --pcap "$fx/multi_turn.pcap" --json "$work/mt.json" \
	>"$work/log" 2>&1 || { cat "$work/log"; fail "multi_turn against fixture_peer.py did not match"; }
pass "multi_turn.pcap against fixture_peer.py, exact: matched"

# One byte of 2.txt changed: where must the replay see it? Byte 123 of the
# body of the second answer; its stream offset comes from the capture.
want=$(python3 - "$fx/http_keepalive.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, segs = 24, {}
while off + 16 <= len(d):
    incl = struct.unpack("<I", d[off + 8:off + 12])[0]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    if f[12:14] != b"\x08\x00" or f[23] != 6:
        continue
    ihl = (f[14] & 15) * 4
    t = 14 + ihl
    total = struct.unpack("!H", f[16:18])[0]
    sport = struct.unpack("!H", f[t:t + 2])[0]
    seq = struct.unpack("!I", f[t + 4:t + 8])[0]
    payload = f[t + (f[t + 12] >> 4) * 4:14 + total]
    if sport == 80 and payload:
        segs[seq] = payload
stream = b"".join(segs[k] for k in sorted(segs))
first = stream.index(b"\r\n\r\n") + 4 + 1000          # after answer 1
second = stream.index(b"\r\n\r\n", first) + 4          # body of answer 2
print(second + 123)
PY
)
python3 -c "
import sys
p = sys.argv[1] + '/2.txt'
b = bytearray(open(p, 'rb').read())
b[123] = ord('#')
open(p, 'wb').write(b)
import os; os.utime(p, (0x6b0b280f, 0x6b0b280f))
" "$work/www"
rc=0
run_replay --mode live --pcap "$fx/http_keepalive.pcap" --compare "mask:$work/mask" \
	--json "$work/bad.json" >"$work/log" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$work/log"; fail "a changed byte: exit $rc, want 1"; }
got=$(json "$work/bad.json" "(j['sessions'][0]['result'], j['sessions'][0]['offset'], j['sessions'][0]['got'])")
[ "$got" = "('differed', $want, 35)" ] || fail "a changed byte: got $got, want ('differed', $want, 35)"
pass "nginx with byte 123 of 2.txt changed: differed at server byte $want, got '#'"
