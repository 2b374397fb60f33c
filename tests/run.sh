#!/bin/sh
# Runs every test binary given, shows its output, and closes with the totals
# of Check's summaries and the plain line "N passed, N failed". A binary that
# dies without its summary counts as one failure.
set -u
checks=0 failures=0 errors=0 status=0
mkdir -p build/tests
for t in "$@"; do
	name=$(basename "$t")
	echo "=== $name"
	"$t" >"build/tests/$name.log" 2>&1
	rc=$?
	cat "build/tests/$name.log"
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "build/tests/$name.log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: exited $rc without a Check summary"
		errors=$((errors + 1))
		checks=$((checks + 1))
		status=1
		continue
	fi
	c=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	checks=$((checks + c)) failures=$((failures + f)) errors=$((errors + e))
	[ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ] || status=1
done
bad=$((failures + errors))
pct=100
[ "$checks" -gt 0 ] && pct=$(((checks - bad) * 100 / checks))
echo
echo "$pct%: Checks: $checks, Failures: $failures, Errors: $errors"
echo "$((checks - bad)) passed, $bad failed"
exit $status
