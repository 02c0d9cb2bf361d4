#!/bin/bash
# Makes the replay fixtures of pcaps/replay/ from real exchanges: the Linux
# kernel, nginx, curl and fixture_peer.py talking across a veth between two
# network namespaces, captured by tcpdump on the server's side. Writes the
# captures and expected.ini, whose values come from the clients' and
# servers' own byte counts (curl -w, fixture_peer.py), never from the
# reader under test. Needs root, nginx (installed if missing), tcpdump,
# nft, python3 and curl. Usage: make_fixtures.sh [OUTDIR] (default: here).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE}" && pwd)
[ "$(id -u)" = 0 ] || { echo "make_fixtures.sh: needs root" >&2; exit 1; }
command -v nginx >/dev/null || apt-get install -y nginx >/dev/null
for tool in tcpdump nft python3 curl ethtool; do
	command -v $tool >/dev/null || { echo "make_fixtures.sh: $tool missing" >&2; exit 1; }
done

SRV=rplfx_srv_$$
CLI=rplfx_cli_$$
SRV_ADDR=10.77.0.1
CLI_ADDR=10.77.0.2
TURN_PORT=7000		# fixture_peer "turns"; 7001 is "sink"
TMP=$(mktemp -d)
chmod 755 "$TMP"	# nginx workers run as nobody
PIDS=()

cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del $SRV 2>/dev/null || true
	ip netns del $CLI 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

in_srv() { ip netns exec $SRV "$@"; }
in_cli() { ip netns exec $CLI "$@"; }

# Namespaces and link. Offloads off, so the capture holds wire-sized
# segments with real checksums, as a NIC would have sent them.
ip netns add $SRV
ip netns add $CLI
ip link add veth-s netns $SRV type veth peer name veth-c netns $CLI
in_srv ip addr add $SRV_ADDR/24 dev veth-s
in_cli ip addr add $CLI_ADDR/24 dev veth-c
for ns in $SRV $CLI; do
	dev=$([ $ns = $SRV ] && echo veth-s || echo veth-c)
	ip netns exec $ns ip link set lo up
	ip netns exec $ns ip link set $dev up
	ip netns exec $ns ethtool -K $dev tso off gso off gro off tx off >/dev/null
	# Client and server both allow TCP Fast Open (1 client | 2 server).
	ip netns exec $ns sysctl -qw net.ipv4.tcp_fastopen=3
done

# nginx with its own configuration, serving three files of fixed sizes.
# (Background jobs run "ip netns exec" directly, not through in_srv, so
# that $! is the program itself and kill reaches it.)
mkdir -p "$TMP/www" "$TMP/nginx"
python3 -c "
import sys
for name, n in (('1.txt', 1000), ('2.txt', 5000), ('3.txt', 300)):
    open(sys.argv[1] + '/' + name, 'wb').write(bytes(65 + i % 26 for i in range(n)))
" "$TMP/www"
cat > "$TMP/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	default_type text/plain;
	keepalive_timeout 30;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	server {
		listen $SRV_ADDR:80;
		root $TMP/www;
	}
}
EOF
ip netns exec $SRV nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" &
PIDS+=($!)
ip netns exec $SRV python3 -u "$HERE/fixture_peer.py" serve $SRV_ADDR $TURN_PORT 0 \
	> "$TMP/peer.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	grep -q ready "$TMP/peer.log" 2>/dev/null &&
		in_cli curl -s -o /dev/null http://$SRV_ADDR/1.txt && break
	sleep 0.1
done

# capture FILE TCPDUMP-OPTIONS... -- CLIENT-COMMAND...: run the client in
# the client namespace while tcpdump writes FILE in the server namespace.
# The client's stdout goes to $TMP/client.out.
capture() {
	local file=$1 pid
	shift
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	rm -f "$TMP/tcpdump.err"
	ip netns exec $SRV tcpdump -U -n -Z root "${opts[@]}" -w "$file" tcp 2> "$TMP/tcpdump.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$TMP/tcpdump.err" 2>/dev/null && break
		sleep 0.1
	done
	in_cli "$@" > "$TMP/client.out"
	# Let the closing FIN/ACKs reach the capture.
	sleep 1
	kill -INT $pid
	wait $pid || true
}

# section NAME KEY=VALUE...: append an expected.ini section; values are
# the client program's "key=value" lines plus the given ones.
section() {
	local name=$1
	shift
	{
		echo
		echo "[$name]"
		grep -E '^[a-z_]+=' "$TMP/client.out" || true
		for kv in "$@"; do echo "$kv"; done
	} >> "$TMP/expected.ini"
}

# curl's own count of one keep-alive connection: bytes of requests sent,
# of response headers and bodies received, new connections made.
curl_counts() {
	awk '{ c += $1; req += $2; resp += $3 + $4; n++ }
	     END { printf "connections=%d\nrequests=%d\nclient_bytes=%d\nserver_bytes=%d\nturns=%d\n", c, n, req, resp, 2 * n }' \
		"$TMP/client.out" > "$TMP/client.counts"
	mv "$TMP/client.counts" "$TMP/client.out"
}

cat > "$TMP/expected.ini" <<EOF
; Written by make_fixtures.sh from the programs' own counts; see README.md.
; Byte counts are TCP payload per direction of each flow; turns count the
; request and response turns of a flow.
EOF

CURL_W='%{num_connects} %{size_request} %{size_header} %{size_download}\n'

capture "$OUT/http_keepalive.pcap" -i veth-s -- \
	curl -s --http1.1 -w "$CURL_W" -o /dev/null -o /dev/null -o /dev/null \
	http://$SRV_ADDR/1.txt http://$SRV_ADDR/2.txt http://$SRV_ADDR/3.txt
curl_counts
section http_keepalive flows=1

capture "$OUT/multi_turn.pcap" -i veth-s -- \
	python3 "$HERE/fixture_peer.py" turns $SRV_ADDR $TURN_PORT 12,300,5,2000,64
section multi_turn flows=1

# TFO: the first connection asks for a cookie, the second sends its
# request in the SYN with it.
capture "$OUT/tfo.pcap" -i veth-s -- sh -c "
	python3 '$HERE/fixture_peer.py' turns-tfo $SRV_ADDR $TURN_PORT 100,40 &&
	python3 '$HERE/fixture_peer.py' turns-tfo $SRV_ADDR $TURN_PORT 100,40"
# Both connections sent the same: keep one copy of each count.
sort -u "$TMP/client.out" > "$TMP/client.uniq" && mv "$TMP/client.uniq" "$TMP/client.out"
section tfo flows=2 syn_data_flow=1

# Retransmissions: the server drops some of the client's data segments
# after tcpdump saw them (AF_PACKET taps before netfilter's input hook), so
# the capture holds each dropped segment and its retransmission.
in_srv nft -f - <<EOF
table ip rplfx {
	chain in {
		type filter hook input priority 0;
		tcp dport $((TURN_PORT + 1)) ip length > 200 numgen inc mod 9 == 4 counter drop
	}
}
EOF
capture "$OUT/retransmissions.pcap" -i veth-s -- \
	python3 "$HERE/fixture_peer.py" sink $SRV_ADDR $((TURN_PORT + 1)) 80000
dropped=$(in_srv nft list table ip rplfx | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
in_srv nft delete table ip rplfx
section retransmissions flows=1 dropped_packets=$dropped pattern="(i * 31 + 7) % 251"

# pcapng: tcpdump 4.99 writes classic pcap only, so one real capture is
# rewritten block by block (SHB, IDB with nanosecond resolution, EPBs).
capture "$TMP/single.pcap" -i veth-s --time-stamp-precision=nano -- \
	curl -s --http1.1 -w "$CURL_W" -o /dev/null http://$SRV_ADDR/2.txt
curl_counts
python3 - "$TMP/single.pcap" "$OUT/pcapng.pcapng" <<'EOF'
import struct, sys
src = open(sys.argv[1], "rb").read()
magic, = struct.unpack("<I", src[:4])
assert magic == 0xa1b23c4d, "expected a nanosecond pcap"
snaplen, linktype = struct.unpack("<II", src[16:24])
def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
tsresol = struct.pack("<HHB3x", 9, 1, 9)       # if_tsresol = 10^-9
out += block(1, struct.pack("<HHI", linktype, 0, snaplen) + tsresol + b"\0" * 4)
off = 24
while off < len(src):
    sec, nsec, caplen, wirelen = struct.unpack("<IIII", src[off:off + 16])
    data = src[off + 16:off + 16 + caplen]
    ts = sec * 1000000000 + nsec
    out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff,
                               caplen, wirelen) + data)
    off += 16 + caplen
open(sys.argv[2], "wb").write(out)
EOF
section pcapng flows=1

# "-i any" captures with Linux cooked headers; tcpdump 4.99 picks SLL2
# unless told otherwise, so both are named.
capture "$OUT/sll.pcap" -i any -y LINUX_SLL -- \
	python3 "$HERE/fixture_peer.py" turns $SRV_ADDR $TURN_PORT 10,20
section sll flows=1 link_type=113

capture "$OUT/sll2.pcap" -i any -y LINUX_SLL2 -- \
	python3 "$HERE/fixture_peer.py" turns $SRV_ADDR $TURN_PORT 10,20
section sll2 flows=1 link_type=276

# Truncated: two connections, the file cut in the middle of the record
# holding the second connection's first data segment from the client.
capture "$TMP/two_flows.pcap" -i veth-s -- sh -c "
	python3 '$HERE/fixture_peer.py' turns $SRV_ADDR $TURN_PORT 100,200 &&
	python3 '$HERE/fixture_peer.py' turns $SRV_ADDR $TURN_PORT 100,200"
sort -u "$TMP/client.out" > "$TMP/client.uniq" && mv "$TMP/client.uniq" "$TMP/client.out"
python3 - "$TMP/two_flows.pcap" $TURN_PORT > "$TMP/cut" <<'EOF'
import struct, sys
src = open(sys.argv[1], "rb").read()
port = int(sys.argv[2])
off, client_ports = 24, []
while off < len(src):
    caplen, = struct.unpack("<I", src[off + 8:off + 12])
    frame = src[off + 16:off + 16 + caplen]
    ihl = (frame[14] & 15) * 4
    tcp = 14 + ihl
    sport, dport = struct.unpack("!HH", frame[tcp:tcp + 4])
    total, = struct.unpack("!H", frame[16:18])
    payload = total - ihl - (frame[tcp + 12] >> 4) * 4
    if dport == port and sport not in client_ports:
        client_ports.append(sport)
    if len(client_ports) == 2 and sport == client_ports[1] and payload > 0:
        print(off, off + 16 + caplen // 2)
        break
    off += 16 + caplen
EOF
read -r cut_record cut_bytes < "$TMP/cut"
head -c "$cut_bytes" "$TMP/two_flows.pcap" > "$OUT/truncated.pcap"
section truncated flows=2 whole_flows=1 truncated_offset=$cut_record

mv "$TMP/expected.ini" "$OUT/expected.ini"
ls -l "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT/expected.ini"
