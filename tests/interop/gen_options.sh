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

# Both spellings: after the EAL separator, and alone.
for form in "-- --help" "--help"; do
	rc=0
	# shellcheck disable=SC2086 # $form is two words on purpose
	out=$(timeout 10 "$gen" $form 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^usage: ' <<<"$out" &&
	   grep -qF -- '--ip ADDR/PREFIX' <<<"$out"; then
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
