#!/bin/bash
# Proves wskdp-gen's embedded default end to end: a client and a server
# engine over the in-memory net_ring link, with no option but --duration
# and --json (and once with --tfo). The JSON must account for every
# connection and byte: completed == attempted, no failure, bytes sent and
# received == completed x the 100 B request and response, latency
# percentiles present and ordered, a timeline; with --tfo the requests
# after the first cookie rode in the SYN and were acknowledged there.
# No root, NIC or hugepages needed (the program falls back to --no-huge).
#
# Usage: gen_embedded.sh PATH/TO/wskdp-gen
set -euo pipefail

gen=${1:?usage: $0 PATH/TO/wskdp-gen}
[ -x "$gen" ] || { echo "FAIL: $gen is not an executable"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/wdp-gen.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

check() {
	local label=$1 tfo=$2 json=$3
	python3 - "$json" "$tfo" "$label" <<'PY'
import json, sys
path, tfo, label = sys.argv[1], sys.argv[2] == "yes", sys.argv[3]
r = json.load(open(path))
c, b = r["connections"], r["bytes"]
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(c["completed"] > 0, f"completed {c['completed']} > 0")
want(c["completed"] == c["attempted"], f"completed {c['completed']} == attempted {c['attempted']}")
want(c["established"] == c["attempted"], f"established {c['established']} == attempted {c['attempted']}")
want(c["failed"] == 0 and c["reset"] == 0 and c["timed_out"] == 0,
     f"no failures (failed {c['failed']}, reset {c['reset']}, timed out {c['timed_out']})")
want(b["sent"] == c["completed"] * 100, f"bytes.sent {b['sent']} == completed x 100")
want(b["received"] == c["completed"] * 100, f"bytes.received {b['received']} == completed x 100")
for k in ("connect", "first_byte", "complete"):
    l = r["latency_us"][k]
    want(l["count"] == c["completed"], f"latency {k} count {l['count']} == completed")
    want(0 < l["p50"] <= l["p90"] <= l["p99"] <= l["p999"] <= l["max"],
         f"latency {k} 0 < p50 <= p90 <= p99 <= p999 <= max: {l}")
want(r["latency_us"]["connect"]["p50"] <= r["latency_us"]["complete"]["p50"],
     "connect p50 <= complete p50")
want(r["duration_s"] > 0 and abs(r["rate"]["cps"] - c["completed"] / r["duration_s"]) < 1e-3 * r["rate"]["cps"] + 1,
     f"rate.cps {r['rate']['cps']} == completed / duration_s")
want(len(r["timeline"]) >= 1, f"a timeline of per-second samples ({len(r['timeline'])})")
want(r["tcp"]["retransmits"] == 0 and r["tcp"]["rx_bad_segments"] == 0,
     f"nothing lost in memory: tcp {r['tcp']}")
t = r["tfo"]
if tfo:
    # One cookie request per server-port pair at the start, then data in
    # every SYN, each acknowledged by the SYN-ACK.
    want(t["cookies_received"] >= 1, f"tfo cookies received {t['cookies_received']} >= 1")
    want(t["syn_data_acked"] > 0, f"tfo syn_data_acked {t['syn_data_acked']} > 0")
    want(t["syn_data_sent"] + t["cookies_requested"] == c["attempted"],
         f"tfo syn_data_sent {t['syn_data_sent']} + cookies_requested {t['cookies_requested']} == attempted {c['attempted']}")
    want(t["syn_data_acked"] == t["syn_data_sent"] and t["fallbacks"] == 0,
         f"every SYN's data acknowledged in memory: {t}")
else:
    want(t["syn_data_sent"] == 0 and t["cookies_requested"] == 0, f"no Fast Open without --tfo: {t}")
if bad:
    print(f"FAIL: {label}: " + "; ".join(bad))
    sys.exit(1)
print(f"ok: {label}: {c['completed']} connections in {r['duration_s']:.2f} s "
      f"({r['rate']['cps']:.0f}/s), every byte and connection accounted for")
PY
}

run() {
	local label=$1 tfo=$2
	shift 2
	local json=$work/$label.json rc=0
	# Nothing is lost in memory, so the check wants no retransmission; a
	# 1 s RTO floor keeps a host too loaded to run the server shard for
	# 5 ms (the LAN default) from faking one.
	timeout 60 "$gen" --duration 1 --min-rto 1s --json "$json" "$@" >"$work/$label.log" 2>"$work/$label.err" || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$json" ]; then
		cat "$work/$label.log" "$work/$label.err"
		echo "FAIL: $label: exited $rc"
		failures=$((failures + 1))
		return
	fi
	check "$label" "$tfo" "$json" || { cat "$work/$label.log"; failures=$((failures + 1)); }
}

run plain no
run tfo yes --tfo
run quiet no --quiet
# --quiet prints nothing on standard output (the EAL may still log on
# standard error), and a non-terminal gets no live lines.
[ ! -s "$work/quiet.log" ] || { echo "FAIL: --quiet printed: $(cat "$work/quiet.log")"; failures=$((failures + 1)); }
grep -q '^ *t .*cps' "$work/plain.log" && { echo "FAIL: live lines printed to a non-terminal"; failures=$((failures + 1)); }

# A CSV timeline with its header.
timeout 60 "$gen" --duration 1 --quiet --csv "$work/t.csv" 2>/dev/null || { echo "FAIL: --csv run"; failures=$((failures + 1)); }
head -1 "$work/t.csv" | grep -qx 't,cps,active,tx_gbps,rx_gbps,retransmits,errors' ||
	{ echo "FAIL: CSV header: $(head -1 "$work/t.csv")"; failures=$((failures + 1)); }

# --capture: a pcap tcpdump reads, holding one client SYN per connection
# the JSON says was attempted (the client's port sees both directions).
if timeout 60 "$gen" --duration 1 --quiet --capture "$work/c.pcap" --json "$work/c.json" 2>/dev/null; then
	syns=$(tcpdump -nr "$work/c.pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l)
	attempted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connections"]["attempted"])' "$work/c.json")
	if [ "$syns" -gt 0 ] && [ "$syns" -eq "$attempted" ]; then
		echo "ok: --capture holds $syns SYNs for $attempted connections"
	else
		echo "FAIL: --capture: $syns SYNs in the capture, $attempted connections attempted"
		failures=$((failures + 1))
	fi
else
	echo "FAIL: --capture run"
	failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
	echo "FAIL: $failures check(s) failed"
	exit 1
fi
echo "ok: the embedded default accounts for every connection and byte"
