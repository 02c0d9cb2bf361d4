#!/bin/bash
# Proves wskdp-gen refuses every bad option with exit status 2 and a message
# naming the option, and that --help exits 0 with the usage. Options are
# parsed before EAL starts, so nothing here needs root, hugepages or a port.
#
# Usage: gen_options.sh PATH/TO/wskdp-gen
set -euo pipefail

gen=${1:?usage: $0 PATH/TO/wskdp-gen}
[ -x "$gen" ] || { echo "FAIL: $gen is not an executable"; exit 1; }
failures=0

# expect_refused WANT ARGS...: wskdp-gen -- ARGS must exit 2 and print a
# message containing WANT (a fixed string).
expect_refused() {
	local want=$1 rc=0 out
	shift
	out=$(timeout 10 "$gen" -- "$@" 2>&1) || rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "$want" <<<"$out"; then
		echo "ok: refused [$*]: $out"
	else
		echo "FAIL: [$*] exited $rc, want 2 and a message containing '$want'; printed: ${out:-nothing}"
		failures=$((failures + 1))
	fi
}

expect_refused "--mtu: '9'" --mtu 9
expect_refused "--mtu: 'abc'" --mtu abc
expect_refused "--vlan: '0'" --vlan 0
expect_refused "--vlan: '5000'" --vlan 5000
expect_refused "--port: '99999'" --port 99999
expect_refused "--duration: '-1'" --duration -1
expect_refused "--ip: '1.2.3/4'" --ip 1.2.3/4
expect_refused "--ip: '10.0.0.1/33'" --ip 10.0.0.1/33
expect_refused "--gateway: 'nope'" --gateway nope
expect_refused "--gateway needs an --ip" --gateway 1.2.3.4
expect_refused "--mac: '01:00:5e:00:00:01'" --mac 01:00:5e:00:00:01
expect_refused "--mac: 'nope'" --mac nope
expect_refused "'--bogus'" --bogus
expect_refused "--mtu needs a value" --mtu
expect_refused "--duration needs a value" --ip 10.0.0.1/24 --duration
expect_refused "unexpected argument 'stray'" --ip 10.0.0.1/24 stray
# The load options, from the same table.
expect_refused "--rate: '0' is not a number between 1 and 10000000" --rate 0
expect_refused "--concurrency: 'x' is not a number" --concurrency x
expect_refused "--request-size: '2G' is not a size between 0 and 1G" --request-size 2G
expect_refused "--close: 'soft' is not one of graceful, abortive" --close soft
expect_refused "--mode: 'proxy' is not one of embedded, client, server" --mode proxy
expect_refused "--tfo: 'maybe' is not yes, no" --tfo=maybe
expect_refused "--time-wait: '5m' is not a duration between 0s and 4m" --time-wait 5m
expect_refused "--max-conns: '1' is not a number between 64 and 4194304" --max-conns 1
expect_refused "--request-bytes: '0' is not a size between 1 and 1G" --mode server --request-bytes 0
expect_refused "--servers: '10.0.0.300' is not a list" --servers 10.0.0.300
expect_refused "--local-ports: '0-10' is not a port or a range" --local-ports 0-10
expect_refused "--rate and --concurrency: give one, not both" --rate 5 --concurrency 5
expect_refused "--mode client needs --servers" --mode client
expect_refused "--rate is a client option" --mode server --rate 5
expect_refused "--ip sets up a port: the embedded run makes its own" --ip 10.0.0.1/24 --mode embedded
expect_refused "--shards 2: the embedded run has one client and one server shard" --shards 2
expect_refused "--request-file: /nonexistent/req: No such file" --request-file /nonexistent/req

# Every bad profile value: the same messages, prefixed by file and section.
prof=$(mktemp -d "${TMPDIR:-/tmp}/wdp-prof.XXXXXX")
trap 'rm -rf "$prof"' EXIT
profile_refused() {
	local want=$1 body=$2
	printf '%b' "$body" >"$prof/p.ini"
	expect_refused "$want" --profile "$prof/p.ini"
}
profile_refused "p.ini: [client] rate: '0' is not a number between 1 and 10000000" '[client]\nrate = 0\n'
profile_refused "p.ini: [common] mtu: '100' is not a number between 576 and 65535" '[common]\nmtu = 100\n'
profile_refused "p.ini: [common] ip: '10.0.0.1/40' is not a list" '[common]\nip = 10.0.0.1/40\n'
profile_refused "p.ini: [common] mac: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC" '[common]\nmac = ff:ff:ff:ff:ff:ff\n'
profile_refused "p.ini: [common] gateway: '1.2.3' is not an IPv4 address" '[common]\ngateway = 1.2.3\n'
profile_refused "p.ini: [server] close-first: 'sometimes' is not yes, no" '[server]\nclose-first = sometimes\n'
profile_refused "p.ini: [client] listen-ports: belongs in [server]" '[client]\nlisten-ports = 80\n'
profile_refused "p.ini: [client] rate: given twice" '[client]\nrate = 1\nrate = 2\n'
profile_refused "p.ini: [proxy]: unknown section" '[proxy]\nx = 1\n'
profile_refused "p.ini: [client] bogus: unknown option" '[client]\nbogus = 1\n'
profile_refused "p.ini:2: 'rate 5' is neither a [section] nor a name = value line" '[client]\nrate 5\n'
profile_refused "--mode client needs --servers" '[common]\nmode = client\n'
expect_refused "nonexistent.ini: No such file or directory" --profile /nonexistent.ini
# A good profile, overridden on the command line, runs nothing wrong.
printf '[common]\nmtu = 1500\n[client]\nrate = 5\n' >"$prof/ok.ini"
expect_refused "--rate and --concurrency: give one, not both" --profile "$prof/ok.ini" --concurrency 3

# Both spellings: after the EAL separator, and alone.
for form in "-- --help" "--help"; do
	rc=0
	# shellcheck disable=SC2086 # $form is two words on purpose
	out=$(timeout 10 "$gen" $form 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^usage: ' <<<"$out" &&
	   grep -qF -- '--ip ADDR/PREFIX' <<<"$out" &&
	   grep -qF -- '--request-size SIZE' <<<"$out"; then
		echo "ok: [$form] exits 0 and prints the usage"
	else
		echo "FAIL: [$form] exited $rc, want 0 and the usage; printed: ${out:-nothing}"
		failures=$((failures + 1))
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "FAIL: $failures check(s) failed"
	exit 1
fi
echo "ok: all option checks passed"
