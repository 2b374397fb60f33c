#!/bin/sh
# Runs every test binary given, shows its output, and closes with the totals
# of Check's summaries and the plain line "N passed, N failed". A binary that
# dies without its summary, or exits non-zero with none failed, counts as one
# failure. Each binary's log goes beside it (BUILD/tests/NAME.log).
#
# For the checking targets (Makefile):
#   APITOKEN_TEST_WRAPPER      a command line to run each binary under (valgrind ...)
#   APITOKEN_SANITIZER_REPORTS the sanitizer runtimes' log directory: reports
#                              that appear while a binary runs are shown and
#                              moved to DIR/NAME/, and each counts as a failure
set -u
checks=0 failures=0 errors=0 status=0
reports=${APITOKEN_SANITIZER_REPORTS:-}
for t in "$@"; do
	name=$(basename "$t")
	log="$(dirname "$t")/$name.log"
	echo "=== $name"
	# shellcheck disable=SC2086
	${APITOKEN_TEST_WRAPPER:-} "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	bad_reports=0
	if [ -n "$reports" ]; then
		for r in "$reports"/*; do
			[ -f "$r" ] || continue
			mkdir -p "$reports/$name"
			echo "--- $name: sanitizer report $(basename "$r")"
			cat "$r"
			mv "$r" "$reports/$name/"
			bad_reports=$((bad_reports + 1))
		done
	fi
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: exited $rc without a Check summary"
		errors=$((errors + 1 + bad_reports))
		checks=$((checks + 1 + bad_reports))
		status=1
		continue
	fi
	c=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ]; then
		echo "$name: exited $rc with no test failed"
		e=1
	fi
	[ "$bad_reports" -gt 0 ] && echo "$name: $bad_reports sanitizer report(s)"
	# A report is a failed check of its own: its test may have passed.
	c=$((c + bad_reports)) e=$((e + bad_reports))
	checks=$((checks + c)) failures=$((failures + f)) errors=$((errors + e))
	[ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ] || status=1
done
if [ -n "$reports" ] && [ -n "$(find "$reports" -type f 2>/dev/null)" ]; then
	echo
	echo "sanitizer reports (all count as failures):"
	find "$reports" -type f | sort
	status=1
fi
bad=$((failures + errors))
pct=100
[ "$checks" -gt 0 ] && pct=$(((checks - bad) * 100 / checks))
echo
echo "$pct%: Checks: $checks, Failures: $failures, Errors: $errors"
echo "$((checks - bad)) passed, $bad failed"
exit $status
