#!/bin/bash
# What it checks: the API example in README.md is, byte for byte, the code
# that tests/test_readme_example.c compiles and runs (between the
# README-EXAMPLE markers), so the documentation cannot drift.
set -euo pipefail
root=$1
extract() { sed -n '/README-EXAMPLE-BEGIN/,/README-EXAMPLE-END/p' "$1"; }
if diff <(extract "$root/tests/test_readme_example.c") <(extract "$root/README.md"); then
	echo "ok: README example matches tests/test_readme_example.c"
else
	echo "FAIL: README.md's example differs from tests/test_readme_example.c (diff above)"
	exit 1
fi
