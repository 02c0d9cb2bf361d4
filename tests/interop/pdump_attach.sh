#!/bin/bash
# What it checks: DPDK's packet-capture framework works on a running
# wskdp program: wskdp-replay (raw mode, --pdump) runs as the EAL primary
# and dpdk-dumpcap attaches to it as a secondary process and captures its
# port's traffic into a pcapng that tcpdump reads.
# Assumes root. A secondary process shares the primary's memory only
# through hugepages, so the test reserves 128 2-MB pages and mounts a
# hugetlbfs of its own for the run, and puts both back at exit; it exits 77
# when the pages cannot be had or dpdk-dumpcap is missing.
# Usage: pdump_attach.sh WSKDP_REPLAY SOURCE_ROOT
set -euo pipefail
replay=$1
src=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (hugepages, hugetlbfs mount)"; exit 77; }
command -v dpdk-dumpcap >/dev/null || { echo "SKIP: dpdk-dumpcap is not installed"; exit 77; }
nr=/proc/sys/vm/nr_hugepages
old_pages=$(cat "$nr")
work=$(mktemp -d /tmp/pd.XXXXXX)
prefix=wdpdump$$
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	mountpoint -q "$work/huge" && { umount "$work/huge" 2>/dev/null || umount -l "$work/huge"; }
	echo "$old_pages" > "$nr" 2>/dev/null || true
	rm -rf "$work" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
echo $((old_pages + 128)) > "$nr" 2>/dev/null || true
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free_pages:-0}" -ge 128 ] || { echo "SKIP: could not reserve 128 hugepages (free: ${free_pages:-0})"; exit 77; }
mkdir -p "$work/huge"
mount -t hugetlbfs -o pagesize=2M nodev "$work/huge" || { echo "SKIP: cannot mount hugetlbfs"; exit 77; }

# net_pcap keeps only the first 63 bytes of its device arguments in the
# memory it shares with a secondary process, which parses them again and
# opens the files itself: a longer string makes the secondary's probe fail
# (a cut-off key) or open a cut-off path. So both files live under the
# short work directory.
cp "$src/pcaps/replay/http_keepalive.pcap" "$work/in.pcap"
cap=$work/in.pcap
devargs="rx_pcap=$cap,tx_pcap=$work/out.pcap"
[ ${#devargs} -le 63 ] || { echo "FAIL: net_pcap device arguments are ${#devargs} bytes, the PMD shares only 63"; exit 1; }
# A secondary maps the primary's memory at the primary's addresses. Where
# the EAL would choose them depends on the primary's own layout (a
# sanitizer build's shadow memory moves it) and can collide with what
# dpdk-dumpcap has mapped already, so pin them high in the address space,
# clear of both.
"$replay" -m 128 --base-virtaddr=0x300000000000 --huge-dir="$work/huge" --no-pci --file-prefix="$prefix" -l 0 \
	--vdev="net_pcap0,$devargs" -- \
	--mode raw --pcap "$cap" --pps 200 --loop 100 --pdump >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 300); do
	# The EAL creates mp_socket before it probes the ports; attaching then
	# fails the secondary's probe, so wait for the server's own ready line.
	grep -q "capture server ready" "$work/log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/log"; echo "FAIL: wskdp-replay exited early"; exit 1; }
	sleep 0.1
done
grep -q "capture server ready" "$work/log" || { cat "$work/log"; echo "FAIL: wskdp-replay never said its capture server was ready"; exit 1; }
timeout 30 dpdk-dumpcap --file-prefix="$prefix" -i net_pcap0 -c 10 -w "$work/dump.pcapng" \
	>"$work/dumpcap.log" 2>&1 || { cat "$work/dumpcap.log" "$work/log"; echo "FAIL: dpdk-dumpcap did not capture"; exit 1; }
got=$(tcpdump -nr "$work/dump.pcapng" 2>/dev/null | wc -l)
[ "$got" -eq 10 ] || { cat "$work/dumpcap.log"; echo "FAIL: tcpdump read $got packets from dpdk-dumpcap's file, want 10"; exit 1; }
cat "$work/dumpcap.log"
echo "ok: dpdk-dumpcap attached to wskdp-replay and captured 10 packets that tcpdump reads"
