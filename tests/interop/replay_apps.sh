#!/bin/bash
# What it checks, with no root, NIC or namespace:
#  - live replay of every pcaps/replay fixture against the engine's own
#    server (--self-test, two engines over net_ring) matches, and the JSON
#    totals say so;
#  - a server that answers one byte differently is caught at that byte:
#    offset, recorded byte and received byte, exit status 1;
#  - truncated.pcap replays its whole flow, leaves out the cut one and
#    reports the file offset expected.ini gives;
#  - raw replay through a net_pcap port writes back the capture's frames
#    byte for byte (pcap and pcapng in, one frame each), and the frames
#    before the cut of truncated.pcap;
#  - --capture writes a pcap tcpdump reads, holding as many frames as the
#    program says, with one SYN and one SYN-ACK per replayed flow;
#  - bad options exit 2.
# Usage: replay_apps.sh WSKDP_REPLAY SOURCE_ROOT
set -euo pipefail
replay=$1
src=$2
fx=$src/pcaps/replay
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

eal=(--no-huge -m 256 --no-pci --no-shconf --no-telemetry -l 0)

# json FILE EXPR: evaluate a python expression on the parsed JSON (as j).
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

for f in http_keepalive.pcap multi_turn.pcap tfo.pcap retransmissions.pcap \
	 pcapng.pcapng sll.pcap sll2.pcap; do
	"$replay" -- --mode live --pcap "$fx/$f" --self-test --timeout 5000 \
		--json "$work/out.json" >"$work/log" 2>&1 ||
		{ cat "$work/log"; fail "$f: self-test replay exited non-zero"; }
	n=$(json "$work/out.json" "j['totals']['sessions']")
	m=$(json "$work/out.json" "j['totals']['matched']")
	[ "$n" -ge 1 ] && [ "$n" = "$m" ] || fail "$f: $m of $n sessions matched"
	pass "$f: $m of $n sessions matched against the engine's own server"
done
[ "$(json "$work/out.json" "[s['tfo'] for s in j['sessions']]")" = "[False]" ] ||
	fail "sll2: a flow without SYN data used fast open"
"$replay" -- --mode live --pcap "$fx/tfo.pcap" --self-test --json "$work/tfo.json" >/dev/null 2>&1 ||
	fail "tfo.pcap: replay failed"
[ "$(json "$work/tfo.json" "[s['tfo'] for s in j['sessions']]")" = "[False, True]" ] ||
	fail "tfo.pcap: fast open not asked for exactly the flow whose SYN carried data"
pass "tfo.pcap: fast open used for the SYN-data flow only"

# Repeat and parallel: every session of every round matches.
"$replay" -- --mode live --pcap "$fx/http_keepalive.pcap" --self-test --repeat 200 \
	--parallel 16 --json "$work/rep.json" >"$work/log" 2>&1 ||
	{ cat "$work/log"; fail "--repeat 200 --parallel 16 did not all match"; }
[ "$(json "$work/rep.json" "(j['totals']['sessions'], j['totals']['matched'], sorted(set(s['round'] for s in j['sessions']))[-1])")" = "(200, 200, 199)" ] ||
	fail "--repeat 200: wrong totals or rounds"
pass "--repeat 200 --parallel 16: 200 sessions, rounds 0..199, all matched"

# A server that answers differently: multi_turn's server byte 1000 flipped.
rc=0
"$replay" -- --mode live --pcap "$fx/multi_turn.pcap" --self-test \
	--self-test-corrupt 0:1000 --json "$work/bad.json" >"$work/log" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$work/log"; fail "a differing server: exit $rc, want 1"; }
got=$(json "$work/bad.json" "(j['sessions'][0]['result'], j['sessions'][0]['direction'], j['sessions'][0]['offset'], j['sessions'][0]['expected'] ^ j['sessions'][0]['got'])")
[ "$got" = "('differed', 'server', 1000, 255)" ] || fail "a differing server reported $got"
# The recorded byte is the fixture's pattern byte at that stream offset
# (byte 1000 lies in the fourth answer's body; body byte i of a stream is
# (i * 31 + 7) % 251), known without the reader.
[ "$(json "$work/bad.json" "j['sessions'][0]['expected']")" = $(( (1000 * 31 + 7) % 251 )) ] ||
	fail "the expected byte is not the recorded pattern byte"
grep -q "differed at server byte 1000" "$work/log" || fail "the terminal report lacks the offset"
pass "a server differing at byte 1000 is reported there, exit status 1"

# --compare length ignores the changed byte; a mask over it too.
"$replay" -- --mode live --pcap "$fx/multi_turn.pcap" --self-test \
	--self-test-corrupt 0:1000 --compare length >/dev/null 2>&1 ||
	fail "--compare length reported the changed byte"
printf '# the changed byte\n0 990-1010\n' >"$work/mask"
"$replay" -- --mode live --pcap "$fx/multi_turn.pcap" --self-test \
	--self-test-corrupt 0:1000 --compare "mask:$work/mask" >/dev/null 2>&1 ||
	fail "--compare mask did not ignore the masked byte"
printf '0 1001-1010\n' >"$work/mask2"
rc=0
"$replay" -- --mode live --pcap "$fx/multi_turn.pcap" --self-test \
	--self-test-corrupt 0:1000 --compare "mask:$work/mask2" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a mask not covering the byte let it pass"
pass "--compare length and mask:FILE ignore what they should, and only that"

# --pace recorded: each client turn waits for its recorded time / --speed.
# --speed 0.0005 stretches the recording 2000 times. The span from the
# client's first to its last data packet (read from the capture here, the
# SYN sender being the client) is a floor for the replay: a replayer that
# ignored the timing would finish far sooner. 10% slack for rounding.
span_us=$(/usr/bin/python3 - "$fx/multi_turn.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
nano = struct.unpack("<I", data[:4])[0] == 0xa1b23c4d
off, client, times = 24, None, []
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack("<IIII", data[off:off + 16])
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
        continue
    ihl = (f[14] & 15) * 4
    tcp = 14 + ihl
    src = (f[26:30], f[tcp:tcp + 2])
    flags, doff = f[tcp + 13], (f[tcp + 12] >> 4) * 4
    if flags & 0x12 == 0x02 and client is None:
        client = src
    plen = struct.unpack(">H", f[16:18])[0] - ihl - doff
    if src == client and plen > 0:
        times.append(sec * 1e6 + (frac / 1000 if nano else frac))
print(int(times[-1] - times[0]) if len(times) > 1 else 0)
PY
)
[ "$span_us" -gt 0 ] || fail "--pace recorded: no client turns found in the fixture"
t0=$(date +%s%N)
"$replay" -- --mode live --pcap "$fx/multi_turn.pcap" --self-test --pace recorded \
	--speed 0.0005 --json "$work/paced.json" >"$work/log" 2>&1 ||
	{ cat "$work/log"; fail "--pace recorded: exit non-zero"; }
elapsed_us=$(( ($(date +%s%N) - t0) / 1000 ))
[ "$(json "$work/paced.json" "j['totals']['matched']")" = 1 ] || fail "--pace recorded: not matched"
[ "$elapsed_us" -ge $(( span_us * 2000 * 9 / 10 )) ] ||
	fail "--pace recorded --speed 0.0005 took ${elapsed_us} us, less than the client turns' ${span_us} us x 2000"
pass "--pace recorded --speed 0.0005: ${elapsed_us} us for client turns spanning ${span_us} us, matched"

# Truncated: the whole flow replays, the cut one is left out, the offset
# is expected.ini's.
want_off=$(sed -n '/^\[truncated\]/,/^\[/s/^truncated_offset=//p' "$fx/expected.ini")
"$replay" -- --mode live --pcap "$fx/truncated.pcap" --self-test \
	--json "$work/tr.json" >"$work/log" 2>&1 || { cat "$work/log"; fail "truncated.pcap: exit non-zero"; }
got=$(json "$work/tr.json" "(j['truncated'], j['truncated_offset'], j['left_out'], j['totals']['sessions'], j['totals']['matched'])")
[ "$got" = "(True, $want_off, [1], 1, 1)" ] || fail "truncated.pcap: got $got"
grep -q "truncated at file offset $want_off" "$work/log" || fail "truncated.pcap: offset not on the terminal"
pass "truncated.pcap: flow 0 matched, flow 1 left out, offset $want_off reported"

# Raw replay through net_pcap: frames out == frames in.
frames_equal() {
	python3 - "$1" "$2" "${3:-0}" <<'PY'
import struct, sys

def frames(path):
    d = open(path, "rb").read()
    out = []
    if d[:4] == b"\x0a\x0d\x0d\x0a":            # pcapng: enhanced packet blocks
        off = 0
        while off + 12 <= len(d):
            btype, blen = struct.unpack("<II", d[off:off + 8])
            if blen < 12 or off + blen > len(d):
                break
            if btype == 6:
                caplen = struct.unpack("<I", d[off + 20:off + 24])[0]
                out.append(d[off + 28:off + 28 + caplen])
            off += blen
        return out
    off = 24
    while off + 16 <= len(d):
        incl = struct.unpack("<I", d[off + 8:off + 12])[0]
        if off + 16 + incl > len(d):
            break                               # a cut record is not a frame
        out.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return out

a, b = frames(sys.argv[1]), frames(sys.argv[2])
loops = int(sys.argv[3]) or 1
if a * loops != b:
    print(f"{len(a)} frames in x{loops}, {len(b)} out, equal prefix: "
          f"{next((i for i, (x, y) in enumerate(zip(a * loops, b)) if x != y), min(len(a) * loops, len(b)))}")
    sys.exit(1)
print(len(b))
PY
}
for f in http_keepalive.pcap pcapng.pcapng truncated.pcap; do
	rm -f "$work/raw.pcap"
	"$replay" "${eal[@]}" --vdev="net_pcap0,tx_pcap=$work/raw.pcap" -- \
		--mode raw --pcap "$fx/$f" --topspeed --loop 2 --json "$work/raw.json" \
		>"$work/log" 2>&1 || { cat "$work/log"; fail "raw $f: exit non-zero"; }
	n=$(frames_equal "$fx/$f" "$work/raw.pcap" 2) || fail "raw $f: frames differ: $n"
	[ "$(json "$work/raw.json" "j['frames']")" = "$n" ] || fail "raw $f: JSON frame count"
	pass "raw $f --loop 2 through net_pcap: $n frames out, byte for byte the capture's"
done
rm -f "$work/raw.pcap"
"$replay" "${eal[@]}" --vdev="net_pcap0,tx_pcap=$work/raw.pcap" -- \
	--mode raw --pcap "$fx/multi_turn.pcap" --speed 1000 >/dev/null 2>&1 ||
	fail "raw --speed 1000: exit non-zero"
n=$(frames_equal "$fx/multi_turn.pcap" "$work/raw.pcap") || fail "raw --speed: frames differ: $n"
pass "raw multi_turn.pcap at recorded timing x1000: $n frames, the capture's"

# Raw mode --capture: the frames the port took, byte for byte the capture's
# (the same as what net_pcap wrote out).
rm -f "$work/raw.pcap" "$work/rawcap.pcap"
"$replay" "${eal[@]}" --vdev="net_pcap0,tx_pcap=$work/raw.pcap" -- \
	--mode raw --pcap "$fx/http_keepalive.pcap" --topspeed --capture "$work/rawcap.pcap" \
	>"$work/log" 2>&1 || { cat "$work/log"; fail "raw --capture: exit non-zero"; }
n=$(frames_equal "$fx/http_keepalive.pcap" "$work/rawcap.pcap") || fail "raw --capture: frames differ: $n"
grep -q "capture: $n frames written" "$work/log" || { cat "$work/log"; fail "raw --capture: count not reported"; }
pass "raw --capture: $n frames, byte for byte the capture's"

# --capture: tcpdump reads it; frame count and handshakes as expected.
"$replay" -- --mode live --pcap "$fx/tfo.pcap" --self-test --capture "$work/cap.pcap" \
	>"$work/log" 2>&1 || { cat "$work/log"; fail "--capture run failed"; }
said=$(sed -n 's/^capture: \([0-9]*\) frames written.*/\1/p' "$work/log")
if command -v tcpdump >/dev/null; then
	read_n=$(tcpdump -nr "$work/cap.pcap" 2>/dev/null | wc -l)
	syn=$(tcpdump -nr "$work/cap.pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l)
	synack=$(tcpdump -nr "$work/cap.pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' 2>/dev/null | wc -l)
	[ -n "$said" ] && [ "$read_n" = "$said" ] || fail "--capture: tcpdump read $read_n frames, program said '$said'"
	[ "$syn" = 2 ] && [ "$synack" = 2 ] || fail "--capture: $syn SYNs and $synack SYN-ACKs, want 2 and 2"
	pass "--capture: tcpdump reads all $read_n frames; 2 SYNs, 2 SYN-ACKs"
else
	echo "tcpdump missing: --capture file not read back"
fi

for bad in "--mode x --pcap $fx/tfo.pcap" "--mode live" "--mode live --pcap $fx/tfo.pcap" \
	   "--mode live --pcap $fx/tfo.pcap --self-test --compare nope" \
	   "--mode live --pcap $fx/tfo.pcap --self-test --flow 3-1"; do
	rc=0
	# shellcheck disable=SC2086
	"$replay" -- $bad >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "'$bad' exited $rc, want 2"
done
pass "bad options exit 2"
