#!/bin/bash
# Proves wskdp-gen against the Linux kernel's TCP, both ways, with and
# without TCP Fast Open, at 0% and 2% loss (nftables in the kernel's
# namespace drops that share of TCP packets in each direction): the engine
# on net_af_packet in one network namespace, the kernel (through
# gen_kernel_peer.py) in another, joined by a veth.
#  - wskdp-gen --mode client against a kernel server: its JSON accounts for
#    every connection (attempted == completed + failed, nothing failed),
#    its completed count and byte counts are the server's own, and its
#    handshakes are the kernel's TcpPassiveOpens; with --tfo the requests
#    the kernel took from SYNs (TcpExtTCPFastOpenPassive, and the server's
#    TCP_INFO) are the JSON's tfo.syn_data_acked. One run is keep-alive
#    (3 requests a connection), one reads until the server closes.
#  - a kernel client (16 connections at a time) against wskdp-gen --mode
#    server: the JSON's connections and bytes are the client's, and the
#    kernel's TcpActiveOpens; with MSG_FASTOPEN the kernel's
#    TcpExtTCPFastOpenActive is the engine's tfo_server_syn_data_accepted.
# Every run has a deadline, so a hung connection fails the test.
#
# Usage: gen_kernel.sh PATH/TO/wskdp-gen PATH/TO/gen_kernel_peer.py
# Environment: GEN_INTEROP_CONNS (connections per run, default 500),
# GEN_INTEROP_LOSS (loss percentages, default "0 2"), GEN_INTEROP_TIMEOUT
# (seconds one run may take, default 60).
# Needs root, ip netns, veth, nft, ethtool, nstat, ss, ping and python3;
# exits 77 (skipped) without them. Everything it creates is named after its
# PID and removed on every exit path.
set -euo pipefail

gen=${1:?usage: $0 PATH/TO/wskdp-gen PATH/TO/gen_kernel_peer.py}
kpeer=${2:?usage: $0 PATH/TO/wskdp-gen PATH/TO/gen_kernel_peer.py}
conns=${GEN_INTEROP_CONNS:-500}
losses=${GEN_INTEROP_LOSS:-0 2}
run_timeout=${GEN_INTEROP_TIMEOUT:-60}

. "$(dirname "$0")/lib.sh"

[ -x "$gen" ] || fail "$gen is not an executable"
[ -r "$kpeer" ] || fail "$kpeer is not readable"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and veth)"
for tool in ip nft ethtool nstat ss ping python3 timeout; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
ip netns list >/dev/null 2>&1 || skip "ip netns is not available"

pair_setup 79 genk
bg_rc=0
# Fast Open as a client and, on listeners that ask for it, as a server.
ip netns exec "$ns_ker" sysctl -qw net.ipv4.tcp_fastopen=3 ||
	skip "cannot enable TCP Fast Open in $ns_ker"
pass "namespaces $ns_eng (engine $eng_ip) and $ns_ker (kernel $ker_ip) joined by $if_eng <-> $if_ker"

eal=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0
     "--file-prefix=$prefix" "--vdev=net_af_packet0,iface=$if_eng")

set_loss() {
	ip netns exec "$ns_ker" nft delete table inet wdploss 2>/dev/null || true
	[ "$1" -eq 0 ] && return 0
	ip netns exec "$ns_ker" nft -f - <<EOF || fail "nft cannot install the loss rules"
table inet wdploss {
	chain in {
		type filter hook input priority 0; policy accept;
		meta l4proto tcp numgen random mod 100 < $1 drop
	}
	chain out {
		type filter hook output priority 0; policy accept;
		meta l4proto tcp numgen random mod 100 < $1 drop
	}
}
EOF
}

# The kernel namespace's TCP counters, as "Name value" lines.
kernel_counters() {
	ip netns exec "$ns_ker" nstat -asz TcpActiveOpens TcpPassiveOpens TcpAttemptFails \
		TcpEstabResets TcpExtTCPFastOpenActive TcpExtTCPFastOpenActiveFail \
		TcpExtTCPFastOpenPassive TcpExtTCPFastOpenPassiveFail TcpExtTCPFastOpenCookieReqd |
		awk '$1 !~ /^#/ { print $1, $2 }'
}

# Wait until file $1 says $2, or the background process dies, or 15 s.
wait_for() {
	for _ in $(seq 150); do
		grep -q "$2" "$1" && return 0
		kill -0 "$bg_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

show_log() {
	echo "---- $1 ----"
	cat "$1"
	echo "---- end of $1 ----"
}

# Compare what both ends and the kernel say about one run. Arguments: the
# label, then name=value pairs; the files are in $work.
check() {
	python3 - "$@" <<'PY'
import json, sys

label = sys.argv[1]
a = dict(kv.split("=", 1) for kv in sys.argv[2:])
work = a["work"]
client_engine = a["client"] == "engine"
loss, tfo = int(a["loss"]), a["tfo"] == "yes"
n, req, resp, rpc = int(a["conns"]), int(a["req"]), int(a["resp"]), int(a["rpc"])


def counters(path):
    out = {}
    for line in open(path):
        name, value = line.split()
        out[name] = int(value)
    return out


before, after = counters(work + "/k.before"), counters(work + "/k.after")
k = {name: after[name] - before.get(name, 0) for name in after}
j = json.load(open(work + "/gen.json"))
peer = json.loads([l for l in open(work + "/peer.log") if l.startswith("{")][-1])
eng = {}
for line in open(work + "/gen.log"):
    f = line.split()
    if len(f) == 2 and f[1].isdigit():
        eng[f[0]] = int(f[1])
c, b, t = j["connections"], j["bytes"], j["tfo"]
bad = []


def want(cond, what):
    if not cond:
        bad.append(what)


want(c["attempted"] == c["completed"] + c["failed"],
     "attempted %d == completed %d + failed %d" % (c["attempted"], c["completed"], c["failed"]))
want(c["completed"] == n and c["failed"] == 0 and c["reset"] == 0 and c["timed_out"] == 0,
     "all %d completed, none failed: %s" % (n, c))
want(peer["completed"] == c["completed"] and peer["failed"] == 0 and peer["open"] == 0,
     "the kernel side completed %d (failed %d, open %d), the engine %d"
     % (peer["completed"], peer["failed"], peer["open"], c["completed"]))
want(peer["requests"] == c["completed"] * rpc,
     "kernel side requests %d == completed x %d" % (peer["requests"], rpc))
want(b["sent"] == c["completed"] * rpc * (req if client_engine else resp),
     "bytes.sent %d == completed x the %s" % (b["sent"], "requests" if client_engine else "answers"))
want(b["received"] == c["completed"] * rpc * (resp if client_engine else req),
     "bytes.received %d == completed x the %s" % (b["received"], "answers" if client_engine else "requests"))
want(b["sent"] == peer["bytes_received"] and b["received"] == peer["bytes_sent"],
     "engine bytes sent/received %d/%d == kernel side received/sent %d/%d"
     % (b["sent"], b["received"], peer["bytes_received"], peer["bytes_sent"]))
if loss == 0:
    want(j["tcp"]["retransmits"] == 0, "no retransmission without loss: %s" % j["tcp"])
    want(k["TcpEstabResets"] == 0 and k["TcpAttemptFails"] == 0,
         "no reset or failed attempt in the kernel: %s" % k)
if client_engine:
    want(c["established"] == c["attempted"], "established %d == attempted %d"
         % (c["established"], c["attempted"]))
    want(k["TcpPassiveOpens"] == c["established"],
         "kernel TcpPassiveOpens +%d == established %d" % (k["TcpPassiveOpens"], c["established"]))
    # A lost SYN-ACK leaves the kernel with the SYN's data taken and the
    # engine sending it again: only without loss must all agree.
    kp = k["TcpExtTCPFastOpenPassive"]
    want(kp == t["syn_data_acked"] == peer["syn_data"] if loss == 0 else
         t["syn_data_acked"] <= kp <= t["syn_data_sent"] and peer["syn_data"] <= kp,
         "kernel TcpExtTCPFastOpenPassive +%d %s tfo.syn_data_acked %d (sent %d), "
         "server's SYN-data connections %d" % (kp, "==" if loss == 0 else ">=",
         t["syn_data_acked"], t["syn_data_sent"], peer["syn_data"]))
    if tfo:
        want(t["cookies_requested"] >= 1 and t["cookies_received"] >= 1,
             "a cookie asked for and received: %s" % t)
        want(k["TcpExtTCPFastOpenCookieReqd"] >= t["cookies_received"],
             "kernel TcpExtTCPFastOpenCookieReqd +%d >= cookies received %d"
             % (k["TcpExtTCPFastOpenCookieReqd"], t["cookies_received"]))
        want(t["syn_data_acked"] > 0, "requests in SYNs: %s" % t)
        if loss == 0:
            want(t["syn_data_sent"] + t["cookies_requested"] == c["attempted"],
                 "each SYN asked for a cookie or carried the request: %s, attempted %d"
                 % (t, c["attempted"]))
            want(t["syn_data_acked"] == t["syn_data_sent"] and t["fallbacks"] == 0,
                 "every SYN's data taken: %s" % t)
            want(k["TcpExtTCPFastOpenCookieReqd"] == t["cookies_requested"],
                 "kernel TcpExtTCPFastOpenCookieReqd +%d == cookies_requested %d"
                 % (k["TcpExtTCPFastOpenCookieReqd"], t["cookies_requested"]))
    else:
        want(sum(t.values()) == 0 and k["TcpExtTCPFastOpenCookieReqd"] == 0,
             "no Fast Open without --tfo: %s" % t)
else:
    want(c["attempted"] == n and c["established"] == n,
         "the engine accepted %d, established %d, want %d" % (c["attempted"], c["established"], n))
    want(k["TcpActiveOpens"] == c["attempted"],
         "kernel TcpActiveOpens +%d == accepted %d" % (k["TcpActiveOpens"], c["attempted"]))
    acc = eng.get("tfo_server_syn_data_accepted", 0)
    ka = k["TcpExtTCPFastOpenActive"]
    want(ka == acc == peer["syn_data"] if loss == 0 else ka <= acc and peer["syn_data"] <= acc,
         "kernel TcpExtTCPFastOpenActive +%d %s engine tfo_server_syn_data_accepted %d, "
         "client's SYN-data connections %d" % (ka, "==" if loss == 0 else "<=", acc, peer["syn_data"]))
    if tfo:
        want(eng.get("tfo_server_cookies_sent", 0) >= 1 and acc > 0,
             "the engine issued cookies (%d) and took requests from SYNs (%d)"
             % (eng.get("tfo_server_cookies_sent", 0), acc))
        if loss == 0:
            want(eng.get("tfo_server_bad_cookie", 0) == 0 and k["TcpExtTCPFastOpenActiveFail"] == 0,
                 "no cookie refused: engine bad %d, kernel TcpExtTCPFastOpenActiveFail +%d"
                 % (eng.get("tfo_server_bad_cookie", 0), k["TcpExtTCPFastOpenActiveFail"]))
            want(acc + eng.get("tfo_server_cookies_sent", 0) == n,
                 "each SYN asked for a cookie or carried the request: cookies %d + SYN data %d == %d"
                 % (eng.get("tfo_server_cookies_sent", 0), acc, n))
    else:
        want(acc == 0 and eng.get("tfo_server_cookies_sent", 0) == 0,
             "no Fast Open without --tfo")
if bad:
    print("FAIL: %s: %s" % (label, "; ".join(bad)))
    sys.exit(1)
print("ok: %-44s %4d conns %6.2fs %7.0f conns/s | rexmt %d | tfo cookies %d/%d syn data %d/%d fallbacks %d | server tfo %d"
      % (label, c["completed"], j["duration_s"], j["rate"]["cps"], j["tcp"]["retransmits"],
         t["cookies_requested"], t["cookies_received"], t["syn_data_sent"], t["syn_data_acked"],
         t["fallbacks"], eng.get("tfo_server_syn_data_accepted", 0)))
PY
}

# Without loss the runs check that nothing is retransmitted. The engine's
# 5 ms LAN RTO would also fire when a loaded host (CI runs this beside
# other suites on 2 CPUs) stalls the Python peer that long, which says
# nothing about TCP; with a 1 s floor only a protocol fault retransmits.
lossless_rto=(--min-rto 1s)

# wskdp-gen --mode client against the kernel server. $1 loss, $2 tfo
# (yes|no), $3 label, $4 port, $5 requests a connection, $6 server close
# (client|server), then more wskdp-gen options.
engine_client() {
	local loss=$1 tfo=$2 label=$3 port=$4 rpc=$5 closer=$6
	shift 6
	local glog=$work/gen.log plog=$work/peer.log grc=0 prc=0
	local gopts=(--mode client --ip "$eng_ip/24" --servers "$ker_ip" --server-ports "$port"
		     --connections "$conns" --concurrency 64 --request-size 100
		     --requests-per-connection "$rpc" --json "$work/gen.json" "$@")
	local popts=(server --ip "$ker_ip" --port "$port" --conns "$conns" --request-size 100
		     --response-size 100 --fastopen 4096 --timeout "$run_timeout")

	[ "$tfo" = yes ] && gopts+=(--tfo)
	[ "$loss" = 0 ] && gopts+=("${lossless_rto[@]}")
	if [ "$closer" = server ]; then
		popts+=(--close-first "$rpc")
		gopts+=(--until-close)
	else
		gopts+=(--response-size 100)
	fi
	rm -f "$work/gen.json"
	kernel_counters >"$work/k.before"
	ip netns exec "$ns_ker" python3 "$kpeer" "${popts[@]}" >"$plog" 2>&1 &
	bg_pid=$!
	wait_for "$plog" "listening on" || { show_log "$plog"; fail "$label: the kernel server did not start"; }
	timeout "$run_timeout" ip netns exec "$ns_eng" "$gen" "${eal[@]}" -- "${gopts[@]}" \
		>"$glog" 2>&1 || grc=$?
	# Every connection the engine completed was counted by the server
	# before its FIN; anything else the server still holds is reported
	# open when told to stop.
	stop_bg_rc
	prc=$bg_rc
	if [ "$grc" -ne 0 ] || [ ! -s "$work/gen.json" ]; then
		show_log "$glog"
		show_log "$plog"
		fail "$label at $loss% loss: wskdp-gen exited $grc"
	fi
	kernel_counters >"$work/k.after"
	check "$label at $loss% loss" work="$work" client=engine loss="$loss" tfo="$tfo" \
		conns="$conns" req=100 resp=100 rpc="$rpc" ||
		{ show_log "$glog"; show_log "$plog"; fail "$label at $loss% loss"; }
	[ "$prc" -eq 0 ] || { show_log "$plog"; fail "$label: the kernel server exited $prc"; }
}

# Stop the background process (SIGTERM) and put its exit status in bg_rc.
stop_bg_rc() {
	bg_rc=0
	if kill -0 "$bg_pid" 2>/dev/null; then
		kill -TERM "$bg_pid" 2>/dev/null || true
	fi
	wait "$bg_pid" || bg_rc=$?
	bg_pid=
}

# A kernel client against wskdp-gen --mode server. $1 loss, $2 tfo, $3
# label, $4 port. The engine closes first: the kernel's LAST_ACK sockets
# then tell when the engine has seen every connection's end.
kernel_client() {
	local loss=$1 tfo=$2 label=$3 port=$4
	local glog=$work/gen.log plog=$work/peer.log grc=0 prc=0 left=
	local gopts=(--mode server --ip "$eng_ip/24" --listen-ports "$port" --request-bytes 100
		     --reply-size 100 --close-first --json "$work/gen.json")
	local popts=(client --peer "$eng_ip" --port "$port" --conns "$conns" --parallel 64
		     --request-size 100 --response-size 100 --server-closes --timeout "$run_timeout")

	[ "$tfo" = yes ] && gopts+=(--tfo) && popts+=(--fastopen)
	[ "$loss" = 0 ] && gopts+=("${lossless_rto[@]}")
	rm -f "$work/gen.json"
	# Each engine has its own cookie secret: a cookie kept from an
	# earlier run would be refused.
	ip -n "$ns_ker" tcp_metrics flush all 2>/dev/null || true
	ip netns exec "$ns_eng" "$gen" "${eal[@]}" -- "${gopts[@]}" >"$glog" 2>&1 &
	bg_pid=$!
	wait_for "$glog" "serving $eng_ip" || { show_log "$glog"; fail "$label: the engine server did not start"; }
	# A fresh engine knows no MAC: one ping lets it resolve the kernel
	# before a burst of SYN-ACKs would queue behind ARP.
	ip netns exec "$ns_ker" ping -c 1 -W 2 "$eng_ip" >/dev/null 2>&1 ||
		{ show_log "$glog"; fail "$label: the engine server does not answer ping"; }
	kernel_counters >"$work/k.before"
	ip netns exec "$ns_ker" python3 "$kpeer" "${popts[@]}" >"$plog" 2>&1 || prc=$?
	for _ in $(seq 150); do
		left=$(ip netns exec "$ns_ker" ss -Htn state last-ack "( dport = :$port )" | wc -l)
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	kernel_counters >"$work/k.after"
	stop_bg_rc
	grc=$bg_rc
	if [ "$grc" -ne 0 ] || [ ! -s "$work/gen.json" ]; then
		show_log "$glog"
		show_log "$plog"
		fail "$label at $loss% loss: wskdp-gen exited $grc"
	fi
	[ "$left" -eq 0 ] || { show_log "$plog"; fail "$label: $left kernel sockets still wait for the engine's last ACK"; }
	check "$label at $loss% loss" work="$work" client=kernel loss="$loss" tfo="$tfo" \
		conns="$conns" req=100 resp=100 rpc=1 ||
		{ show_log "$glog"; show_log "$plog"; fail "$label at $loss% loss"; }
	[ "$prc" -eq 0 ] || { show_log "$plog"; fail "$label: the kernel client exited $prc"; }
}

start=$SECONDS
round=0
for loss in $losses; do
	set_loss "$loss"
	base=$((21000 + round * 10))
	round=$((round + 1))
	# Each run has its own server port, so no 4-tuple meets a TIME_WAIT
	# left by an earlier run's separate process.
	engine_client "$loss" no "engine client -> kernel server" $((base + 1)) 1 client
	engine_client "$loss" yes "engine client -> kernel server, TFO" $((base + 2)) 1 client
	engine_client "$loss" no "engine client -> kernel, keep-alive x3" $((base + 3)) 3 client
	engine_client "$loss" yes "engine client -> kernel, server closes, TFO" $((base + 4)) 1 server
	kernel_client "$loss" no "kernel client -> engine server" $((base + 5))
	kernel_client "$loss" yes "kernel client -> engine server, TFO" $((base + 6))
done
set_loss 0
pass "every connection and byte accounted for at loss ${losses// /, }% ($((SECONDS - start)) s, $conns connections a run)"
