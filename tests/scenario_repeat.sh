#!/bin/sh
# Determinism: every scenario run twice must write byte-identical output
# captures (the virtual clock and fixed seeds leave nothing to chance).
# Usage: scenario_repeat.sh RUNNER SCENARIO_DIR
set -u
runner=$1
dir=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
count=0
for scn in "$dir"/*.scn; do
	[ -e "$scn" ] || continue
	name=$(basename "$scn" .scn)
	count=$((count + 1))
	for run in 1 2; do
		# Pass or fail does not matter here (the scenario's own test
		# checks that); only a missing output does.
		"$runner" --out "$tmp/$name.$run.pcap" "$scn" >"$tmp/$name.$run.log" 2>&1
		if [ ! -s "$tmp/$name.$run.pcap" ]; then
			echo "FAIL: $name run $run wrote no capture:"
			cat "$tmp/$name.$run.log"
			status=1
		fi
	done
	if ! cmp "$tmp/$name.1.pcap" "$tmp/$name.2.pcap"; then
		echo "FAIL: $name: two runs differ"
		status=1
	fi
done
if [ "$count" -eq 0 ]; then
	echo "FAIL: no scenarios in $dir"
	exit 1
fi
echo "$count scenarios, each run twice"
exit $status
