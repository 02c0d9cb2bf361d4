#!/bin/bash
# Proves the TCP engine against the Linux kernel's TCP: the engine on
# net_af_packet in one network namespace, the kernel (through
# tcp_kernel_peer.py) in another, joined by a veth. At 0, 1 and 5 percent
# loss (nftables in the kernel's namespace drops that share of TCP packets
# in each direction), in both roles (engine client -> kernel server, kernel
# client -> engine server): 1,000 short connections (1 KiB up each, 16 at
# a time), one bulk transfer up and one down. Every byte is checked against
# the pattern on the receiving side, both ends must report every
# connection completed, and every run has a deadline, so a hung connection
# fails the test instead of stalling it.
#
# Usage: tcp_kernel.sh PATH/TO/wskdp-tcp-peer PATH/TO/tcp_kernel_peer.py
# Environment: TCP_INTEROP_BYTES (bulk transfer size, default 100 MB),
# TCP_INTEROP_CONNS (short connections per step, default 1000),
# TCP_INTEROP_LOSS (loss percentages, default "0 1 5"), TCP_INTEROP_STEPS
# (which steps to run, default all: ek-short ek-up ek-down ke-short ke-up
# ke-down; ek = engine client, ke = kernel client), TCP_INTEROP_TIMEOUT
# (seconds one run may take, default 120).
# Needs root, ip netns, veth, nft, ethtool, ping and python3; exits 77 (skipped)
# without them. Everything it creates is named after its PID and removed on
# every exit path.
set -euo pipefail

peer=${1:?usage: $0 PATH/TO/wskdp-tcp-peer PATH/TO/tcp_kernel_peer.py}
kpeer=${2:?usage: $0 PATH/TO/wskdp-tcp-peer PATH/TO/tcp_kernel_peer.py}
bulk=${TCP_INTEROP_BYTES:-100000000}
short=${TCP_INTEROP_CONNS:-1000}
losses=${TCP_INTEROP_LOSS:-0 1 5}
# Per run: generous (100 MB at 5% loss each way takes 3-11 s with the
# engine sending, RACK-TLP and a 5 ms minimum RTO), but bounded so a hang fails the test well inside meson's timeout.
run_timeout=${TCP_INTEROP_TIMEOUT:-120}
steps=" ${TCP_INTEROP_STEPS:-ek-short ek-up ek-down ke-short ke-up ke-down} "

. "$(dirname "$0")/lib.sh"

[ -x "$peer" ] || fail "$peer is not an executable"
[ -r "$kpeer" ] || fail "$kpeer is not readable"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and veth)"
for tool in ip nft ethtool ping python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
ip netns list >/dev/null 2>&1 || skip "ip netns is not available"

pair_setup 78 tcp
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

# The value of key=value field $1 in summary line $2.
field() {
	sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"
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

# One step: a server in the background, the client in the foreground, both
# must succeed. $1 loss, $2 who is the client (engine|kernel), $3 label,
# $4 TCP port, then the client's options (--conns ... --direction ...).
step() {
	local name=$1 loss=$2 client=$3 label=$4 port=$5
	shift 5
	[[ $steps == *" $name "* ]] || return 0
	local slog=$work/server.log clog=$work/client.log conns=1 src=0 crc=0
	local cline sline eline

	conns=$(sed -nE 's/.*--conns ([0-9]+).*/\1/p' <<<"$*")
	: >"$slog"
	: >"$clog"
	if [ "$client" = engine ]; then
		ip netns exec "$ns_ker" python3 "$kpeer" --mode server --ip "$ker_ip" \
			--port "$port" --conns "$conns" --timeout "$run_timeout" >"$slog" 2>&1 &
		bg_pid=$!
		wait_for "$slog" "listening on" || { show_log "$slog"; fail "$label: the kernel server did not start"; }
		ip netns exec "$ns_eng" "$peer" "${eal[@]}" -- --mode client --ip "$eng_ip/24" \
			--peer "$ker_ip" --port "$port" --timeout "$run_timeout" "$@" >"$clog" 2>&1 || crc=$?
	else
		ip netns exec "$ns_eng" "$peer" "${eal[@]}" -- --mode server --ip "$eng_ip/24" \
			--port "$port" --conns "$conns" --timeout "$run_timeout" >"$slog" 2>&1 &
		bg_pid=$!
		wait_for "$slog" "listening on" || { show_log "$slog"; fail "$label: the engine server did not start"; }
		# A fresh engine knows no MAC; the kernel still has the engine's
		# from the last step and would open with a burst of SYNs, more
		# than the engine queues per unresolved address (ARP pending 8):
		# the rest would wait for a 1 s SYN-ACK retransmission. One ping
		# lets the engine resolve the kernel first.
		ip netns exec "$ns_ker" ping -c 1 -W 2 "$eng_ip" >/dev/null 2>&1 ||
			{ show_log "$slog"; fail "$label: the engine server does not answer ping"; }
		ip netns exec "$ns_ker" python3 "$kpeer" --mode client --peer "$eng_ip" \
			--port "$port" --timeout "$run_timeout" "$@" >"$clog" 2>&1 || crc=$?
	fi
	wait "$bg_pid" || src=$?
	bg_pid=
	if [ "$crc" -ne 0 ] || [ "$src" -ne 0 ]; then
		show_log "$clog"
		show_log "$slog"
		# The kernel's side of a failure (resets sent, SYN cookies,
		# listen drops, PAWS rejects) since the namespace was made.
		echo "---- kernel namespace TCP counters (non-zero) ----"
		ip netns exec "$ns_ker" nstat -a -s 2>/dev/null | awk 'NR > 1 && $2 != 0' || true
		fail "$label at $loss% loss: client exit $crc, server exit $src"
	fi
	cline=$(grep -E ' port client .*completed=' "$clog") || { show_log "$clog"; fail "$label: no client summary"; }
	sline=$(grep -E ' port server .*completed=' "$slog") || { show_log "$slog"; fail "$label: no server summary"; }
	[ "$(field completed "$cline")" = "$conns" ] && [ "$(field completed "$sline")" = "$conns" ] ||
		fail "$label: client completed $(field completed "$cline"), server $(field completed "$sline"), want $conns"
	if [ "$client" = engine ]; then eline=$cline; else eline=$sline; fi
	pass "$(printf '%-3s loss %-30s %5s conns %7ss %8s conns/s %8s MB/s | engine rexmt: timeouts %s segments %s fast %s sack %s' \
		"$loss%" "$label" "$conns" "$(field secs "$cline")" "$(field conns_per_s "$cline")" \
		"$(field MB_per_s "$cline")" "$(field rexmt_timeouts "$eline")" \
		"$(field rexmt_segments "$eline")" "$(field fast_retransmits "$eline")" \
		"$(field sack_retransmits "$eline")")"
}

start=$SECONDS
round=0
for loss in $losses; do
	set_loss "$loss"
	base=$((20000 + round * 10))
	round=$((round + 1))
	# Each step has its own server port, so no 4-tuple meets a TIME_WAIT
	# left by an earlier step's separate process.
	step ek-short "$loss" engine "engine->kernel short up" $((base + 1)) \
		--conns "$short" --parallel 64 --bytes 1024 --direction up
	step ek-up "$loss" engine "engine->kernel bulk up" $((base + 2)) \
		--conns 1 --bytes "$bulk" --direction up
	step ek-down "$loss" engine "engine->kernel bulk down" $((base + 3)) \
		--conns 1 --bytes "$bulk" --direction down
	step ke-short "$loss" kernel "kernel->engine short up" $((base + 4)) \
		--conns "$short" --parallel 64 --bytes 1024 --direction up
	step ke-up "$loss" kernel "kernel->engine bulk up" $((base + 5)) \
		--conns 1 --bytes "$bulk" --direction up
	step ke-down "$loss" kernel "kernel->engine bulk down" $((base + 6)) \
		--conns 1 --bytes "$bulk" --direction down
done
set_loss 0
pass "every connection completed with every byte verified at loss ${losses// /, }% ($((SECONDS - start)) s, bulk $bulk bytes)"
