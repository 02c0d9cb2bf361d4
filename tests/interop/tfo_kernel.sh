#!/bin/bash
# Proves the engine's TCP Fast Open (RFC 7413) against the Linux kernel's,
# both ways, through a veth between two network namespaces (the engine on
# net_af_packet). wskdp-gen opens one connection at a time, so every count
# is exact; a capture in the kernel's namespace shows what the SYNs carried.
#  1. Kernel server with net.ipv4.tcp_fastopen=3 and TCP_FASTOPEN on its
#     listener, wskdp-gen --tfo as the client: the first SYN asks for a
#     cookie and the SYN-ACK brings one; every later SYN carries the whole
#     request with that cookie and the kernel takes it
#     (TcpExtTCPFastOpenPassive), the server gets every byte.
#  2. Kernel server with tcp_fastopen=0: cookie requests go unanswered, no
#     SYN carries data, nothing fails, every byte arrives.
#  3. Kernel server that stops doing Fast Open (tcp_fastopen=0) after
#     giving the engine a cookie: the next SYN's data is not taken, the
#     engine sends it again after the handshake (tfo.fallbacks), nothing
#     fails, every byte arrives.
#  4. A Linux client using sendto(MSG_FASTOPEN) with tcp_fastopen=3 against
#     wskdp-gen --mode server --tfo: the first connection gets the engine's
#     cookie, every later SYN carries the request and the engine takes it
#     (TcpExtTCPFastOpenActive on the kernel's side, the engine's
#     tfo_server_* counters agree).
#
# Usage: tfo_kernel.sh PATH/TO/wskdp-gen PATH/TO/gen_kernel_peer.py
# Needs root, ip netns, veth, ethtool, nstat, ss, tcpdump, ping and
# python3; exits 77 (skipped) without them. Everything it creates is named
# after its PID and removed on every exit path.
set -euo pipefail

gen=${1:?usage: $0 PATH/TO/wskdp-gen PATH/TO/gen_kernel_peer.py}
kpeer=${2:?usage: $0 PATH/TO/wskdp-gen PATH/TO/gen_kernel_peer.py}
# Connections per step, one at a time, and seconds a step may take.
conns=20
run_timeout=30

. "$(dirname "$0")/lib.sh"

[ -x "$gen" ] || fail "$gen is not an executable"
[ -r "$kpeer" ] || fail "$kpeer is not readable"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and veth)"
for tool in ip ethtool nstat ss tcpdump ping python3 timeout; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
ip netns list >/dev/null 2>&1 || skip "ip netns is not available"

pair_setup 80 tfok
ip netns exec "$ns_ker" sysctl -qw net.ipv4.tcp_fastopen=3 ||
	skip "cannot set net.ipv4.tcp_fastopen in $ns_ker"
pass "namespaces $ns_eng (engine $eng_ip) and $ns_ker (kernel $ker_ip) joined by $if_eng <-> $if_ker"

eal=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0
     "--file-prefix=$prefix" "--vdev=net_af_packet0,iface=$if_eng")

set_tfo() {
	ip netns exec "$ns_ker" sysctl -qw "net.ipv4.tcp_fastopen=$1"
	# Cookies the kernel cached as a client belong to an earlier engine.
	ip -n "$ns_ker" tcp_metrics flush all 2>/dev/null || true
}

kernel_counters() {
	ip netns exec "$ns_ker" nstat -asz TcpActiveOpens TcpPassiveOpens \
		TcpExtTCPFastOpenActive TcpExtTCPFastOpenActiveFail TcpExtTCPFastOpenPassive \
		TcpExtTCPFastOpenPassiveFail TcpExtTCPFastOpenCookieReqd |
		awk '$1 !~ /^#/ { print $1, $2 }'
}

# Wait until file $1 says $2, or process $3 dies, or 15 s.
wait_for() {
	for _ in $(seq 150); do
		grep -q "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

show_log() {
	echo "---- $1 ----"
	cat "$1"
	echo "---- end of $1 ----"
}

# Capture the SYNs and SYN-ACKs on the kernel's side of the veth: one of
# each a connection, so tcpdump ends by itself after 2 x $conns (and says
# so when it does not). It stays root to write into $work.
capture_start() {
	ip netns exec "$ns_ker" tcpdump -Z root -i "$if_ker" --immediate-mode -U -n \
		-c $((2 * conns)) -w "$work/syn.pcap" 'tcp[tcpflags] & tcp-syn != 0' \
		2>"$work/tcpdump.log" &
	cap_pid=$!
	wait_for "$work/tcpdump.log" "listening on" "$cap_pid" ||
		{ show_log "$work/tcpdump.log"; fail "tcpdump did not start"; }
}

# Wait for the capture to end (5 s at most); its SYNs go to
# $work/syns.json, one JSON line each.
capture_stop() {
	for _ in $(seq 50); do
		kill -0 "$cap_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -INT "$cap_pid" 2>/dev/null || true
	wait "$cap_pid" 2>/dev/null || true
	cap_pid=
	python3 "$kpeer" syns --pcap "$work/syn.pcap" >"$work/syns.json" ||
		fail "cannot read the capture"
}

# Check one step. Arguments: the label, then name=value pairs.
check() {
	python3 - "$@" <<'PY'
import json, sys

label = sys.argv[1]
a = dict(kv.split("=", 1) for kv in sys.argv[2:])
work, step, n, eng_ip = a["work"], a["step"], int(a["conns"]), a["eng_ip"]


def counters(path):
    return {l.split()[0]: int(l.split()[1]) for l in open(path)}


before, after = counters(work + "/k.before"), counters(work + "/k.after")
k = {name: after[name] - before.get(name, 0) for name in after}
j = json.load(open(work + "/gen.json"))
peer = json.loads([l for l in open(work + "/peer.log") if l.startswith("{")][-1])
eng = {}
for line in open(work + "/gen.log"):
    f = line.split()
    if len(f) == 2 and f[1].isdigit():
        eng[f[0]] = int(f[1])
syns = [json.loads(l) for l in open(work + "/syns.json")]
c, b, t = j["connections"], j["bytes"], j["tfo"]
bad = []


def want(cond, what):
    if not cond:
        bad.append(what)


# Both ends: every connection completed, every byte where it belongs.
want(c["attempted"] == n and c["completed"] == n and c["failed"] == 0,
     "the engine completed all %d connections: %s" % (n, c))
want(peer["completed"] == n and peer["failed"] == 0,
     "the kernel side completed %d, failed %d, want %d" % (peer["completed"], peer["failed"], n))
want(b["sent"] == n * 100 == peer["bytes_received"] and b["received"] == n * 100 == peer["bytes_sent"],
     "100 B each way a connection: engine sent/received %d/%d, kernel received/sent %d/%d"
     % (b["sent"], b["received"], peer["bytes_received"], peer["bytes_sent"]))
# Nothing is lost on the veth: the only data sent twice is a SYN's the
# server did not take.
want(j["tcp"]["retransmits"] == t["fallbacks"],
     "retransmissions %d == tfo.fallbacks %d" % (j["tcp"]["retransmits"], t["fallbacks"]))

client = eng_ip if step != "linux-client" else a["ker_ip"]
syn = [s for s in syns if not s["ack"] and s["src"] == client]
synack = [s for s in syns if s["ack"] and s["dst"] == client]
data_syns = [s for s in syn if s["payload"] > 0]
want(len(syn) == n and len(synack) == n,
     "the capture holds %d SYNs and %d SYN-ACKs, want %d each" % (len(syn), len(synack), n))
want(all(s["payload"] == 100 for s in data_syns),
     "SYNs carry the whole 100 B request or nothing: %s" % sorted({s["payload"] for s in syn}))
want(all(s["tfo"] not in (None, "request") for s in data_syns),
     "every SYN with data has a cookie")

if step in ("on", "linux-client"):
    # One cookie request, answered; then the request in every SYN.
    want(syn[0]["tfo"] == "request" and syn[0]["payload"] == 0 if syn else False,
         "the first SYN asks for a cookie: %s" % (syn[:1],))
    want(synack[0]["tfo"] not in (None, "request") if synack else False,
         "the first SYN-ACK carries a cookie: %s" % (synack[:1],))
    want(len(data_syns) == n - 1, "%d SYNs with data, want %d" % (len(data_syns), n - 1))
    want(len({s["tfo"] for s in data_syns}) == 1 and
         (not synack or {s["tfo"] for s in data_syns} == {synack[0]["tfo"]}),
         "every later SYN carries the cookie the first SYN-ACK gave")
    want(peer["syn_data"] == n - 1, "the kernel side saw %d requests in SYNs, want %d"
         % (peer["syn_data"], n - 1))
if step == "on":
    want(t == {"cookies_requested": 1, "cookies_received": 1, "syn_data_sent": n - 1,
               "syn_data_acked": n - 1, "fallbacks": 0},
         "tfo counters: one cookie, %d SYNs with data all taken: %s" % (n - 1, t))
    want(k["TcpExtTCPFastOpenPassive"] == n - 1 and k["TcpExtTCPFastOpenCookieReqd"] == 1 and
         k["TcpExtTCPFastOpenPassiveFail"] == 0,
         "kernel TcpExtTCPFastOpenPassive +%d (want %d), CookieReqd +%d (want 1), PassiveFail +%d"
         % (k["TcpExtTCPFastOpenPassive"], n - 1, k["TcpExtTCPFastOpenCookieReqd"],
            k["TcpExtTCPFastOpenPassiveFail"]))
elif step == "off":
    want(t["cookies_requested"] >= 1 and t["cookies_received"] == 0 and t["syn_data_sent"] == 0
         and t["fallbacks"] == 0, "cookies asked for, none given, no SYN data: %s" % t)
    want(len(data_syns) == 0 and all(s["tfo"] is None for s in synack),
         "no SYN with data, no cookie from the kernel")
    want(sum(1 for s in syn if s["tfo"] == "request") == t["cookies_requested"],
         "the capture's cookie requests are tfo.cookies_requested %d" % t["cookies_requested"])
    want(k["TcpExtTCPFastOpenPassive"] == 0, "kernel TcpExtTCPFastOpenPassive +%d, want 0"
         % k["TcpExtTCPFastOpenPassive"])
elif step == "turned-off":
    after_off = int(a["off_after"])
    want(t["cookies_requested"] == 1 and t["cookies_received"] == 1,
         "one cookie asked for and received: %s" % t)
    want(t["syn_data_acked"] == after_off - 1 == k["TcpExtTCPFastOpenPassive"] == peer["syn_data"],
         "the %d SYNs with data before the kernel stopped were taken: tfo.syn_data_acked %d, "
         "kernel TcpExtTCPFastOpenPassive +%d, server %d" % (after_off - 1, t["syn_data_acked"],
         k["TcpExtTCPFastOpenPassive"], peer["syn_data"]))
    want(t["fallbacks"] >= 1 and t["syn_data_sent"] == t["syn_data_acked"] + t["fallbacks"],
         "every SYN's data not taken was sent again: %s" % t)
    want(len(data_syns) == t["syn_data_sent"], "the capture's %d SYNs with data are tfo.syn_data_sent %d"
         % (len(data_syns), t["syn_data_sent"]))
    want(all(s["tfo"] is None for s in synack[after_off:]),
         "no cookie from the kernel once it stopped")
elif step == "linux-client":
    acc, cookies = eng.get("tfo_server_syn_data_accepted", 0), eng.get("tfo_server_cookies_sent", 0)
    want(cookies == 1 and acc == n - 1 and eng.get("tfo_server_bad_cookie", 0) == 0,
         "the engine issued 1 cookie (%d) and took %d requests from SYNs (%d), refused none (%d)"
         % (cookies, n - 1, acc, eng.get("tfo_server_bad_cookie", 0)))
    want(k["TcpExtTCPFastOpenActive"] == n - 1 and k["TcpExtTCPFastOpenActiveFail"] == 0
         and k["TcpActiveOpens"] == n,
         "kernel TcpExtTCPFastOpenActive +%d (want %d), ActiveFail +%d, TcpActiveOpens +%d (want %d)"
         % (k["TcpExtTCPFastOpenActive"], n - 1, k["TcpExtTCPFastOpenActiveFail"],
            k["TcpActiveOpens"], n))
if bad:
    print("FAIL: %s: %s" % (label, "; ".join(bad)))
    sys.exit(1)
print("ok: %s: %d connections, %d SYNs with data, tfo %s, engine server %s, kernel %s"
      % (label, n, len(data_syns), t,
         {x: v for x, v in eng.items() if x.startswith("tfo_server")},
         {x: v for x, v in k.items() if "FastOpen" in x and v}))
PY
}

# wskdp-gen --tfo, one connection at a time, against the kernel server.
# $1 step, $2 label, $3 port, then more server options.
engine_client() {
	local step=$1 label=$2 port=$3
	shift 3
	local glog=$work/gen.log plog=$work/peer.log grc=0 prc=0 off_after=0

	[ "${1:-}" = --tfo-off-after ] && off_after=$2
	rm -f "$work/gen.json"
	kernel_counters >"$work/k.before"
	ip netns exec "$ns_ker" python3 "$kpeer" server --ip "$ker_ip" --port "$port" \
		--conns "$conns" --fastopen 16 --timeout "$run_timeout" "$@" >"$plog" 2>&1 &
	bg_pid=$!
	wait_for "$plog" "listening on" "$bg_pid" || { show_log "$plog"; fail "$label: the kernel server did not start"; }
	capture_start
	timeout "$run_timeout" ip netns exec "$ns_eng" "$gen" "${eal[@]}" -- --mode client \
		--ip "$eng_ip/24" --servers "$ker_ip" --server-ports "$port" --tfo \
		--connections "$conns" --concurrency 1 --request-size 100 --response-size 100 \
		--json "$work/gen.json" >"$glog" 2>&1 || grc=$?
	# The engine completes a connection only after the server has
	# counted it and closed: the server is done, or stuck.
	wait "$bg_pid" || prc=$?
	bg_pid=
	capture_stop
	kernel_counters >"$work/k.after"
	if [ "$grc" -ne 0 ] || [ "$prc" -ne 0 ] || [ ! -s "$work/gen.json" ]; then
		show_log "$glog"
		show_log "$plog"
		fail "$label: wskdp-gen exited $grc, the kernel server $prc"
	fi
	check "$label" work="$work" step="$step" conns="$conns" eng_ip="$eng_ip" \
		ker_ip="$ker_ip" off_after="$off_after" ||
		{ show_log "$glog"; show_log "$plog"; fail "$label"; }
}

# A Linux client with MSG_FASTOPEN against wskdp-gen --mode server --tfo.
linux_client() {
	local label=$1 port=$2
	local glog=$work/gen.log plog=$work/peer.log grc=0 prc=0 left=

	rm -f "$work/gen.json"
	ip netns exec "$ns_eng" "$gen" "${eal[@]}" -- --mode server --ip "$eng_ip/24" \
		--listen-ports "$port" --tfo --request-bytes 100 --reply-size 100 --close-first \
		--json "$work/gen.json" >"$glog" 2>&1 &
	bg_pid=$!
	wait_for "$glog" "serving $eng_ip" "$bg_pid" || { show_log "$glog"; fail "$label: the engine server did not start"; }
	ip netns exec "$ns_ker" ping -c 1 -W 2 "$eng_ip" >/dev/null 2>&1 ||
		{ show_log "$glog"; fail "$label: the engine server does not answer ping"; }
	kernel_counters >"$work/k.before"
	capture_start
	ip netns exec "$ns_ker" python3 "$kpeer" client --peer "$eng_ip" --port "$port" \
		--conns "$conns" --fastopen --server-closes --timeout "$run_timeout" >"$plog" 2>&1 || prc=$?
	# The engine closes first: once no kernel socket waits for the
	# engine's last ACK, the engine has seen every connection end.
	for _ in $(seq 150); do
		left=$(ip netns exec "$ns_ker" ss -Htn state last-ack "( dport = :$port )" | wc -l)
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	capture_stop
	kernel_counters >"$work/k.after"
	kill -TERM "$bg_pid"
	wait "$bg_pid" || grc=$?
	bg_pid=
	if [ "$grc" -ne 0 ] || [ "$prc" -ne 0 ] || [ ! -s "$work/gen.json" ]; then
		show_log "$glog"
		show_log "$plog"
		fail "$label: wskdp-gen exited $grc, the kernel client $prc"
	fi
	[ "$left" -eq 0 ] || fail "$label: $left kernel sockets still wait for the engine's last ACK"
	check "$label" work="$work" step=linux-client conns="$conns" eng_ip="$eng_ip" \
		ker_ip="$ker_ip" ||
		{ show_log "$glog"; show_log "$plog"; fail "$label"; }
}

start=$SECONDS
set_tfo 3
engine_client on "engine client -> kernel server, tcp_fastopen=3" 22001
set_tfo 0
engine_client off "engine client -> kernel server, tcp_fastopen=0" 22002
set_tfo 3
engine_client turned-off "engine client -> kernel server turning Fast Open off" 22003 \
	--tfo-off-after 5
set_tfo 3
linux_client "Linux MSG_FASTOPEN client -> engine server" 22004
pass "Fast Open with the kernel both ways, and the fallbacks ($((SECONDS - start)) s)"
