#!/usr/bin/env bash
# Prints "N passed, N failed[, N skipped]" summed from the TRX reports that `make test` wrote into DIR, as its last line.
# Counting from the reports (not from console text) keeps the line true to what actually ran.
# It fails (exit 1, the reason on stderr before the line) when there is no report, when a report has no counters (a run
# that crashed or was cut short), when a test failed, or when fewer tests ran than the floor in .ci/minimum-tests
# (MIN_TESTS overrides it): a main that lost most of its tests must not stay green.
set -euo pipefail
dir=${1:-artifacts/test-results}
root=$(cd "$(dirname "$0")/.." && pwd)
floor=${MIN_TESTS:-$(grep -v '^[[:space:]]*#' "$root/.ci/minimum-tests" | tr -d '[:space:]')}
passed=0 failed=0 skipped=0 total=0
problems=()
shopt -s nullglob
reports=("$dir"/*.trx)
if [ ${#reports[@]} -eq 0 ]; then
  problems+=("no TRX report in $dir: the tests did not run (see the build or test output above)")
fi
for trx in "${reports[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1 || true)
  if [ -z "$counters" ]; then
    problems+=("$trx has no <Counters>: its test run crashed or was cut short")
    continue
  fi
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  t=$(get total); p=$(get passed); f=$(get failed); e=$(get error); o=$(get timeout); a=$(get aborted)
  total=$((total + t))
  passed=$((passed + p))
  failed=$((failed + f + e + o + a))
  skipped=$((skipped + t - p - f - e - o - a))
done
if [ "$failed" -gt 0 ]; then
  problems+=("$failed tests failed")
fi
if [ "$total" -lt "$floor" ]; then
  problems+=("only $total tests ran, fewer than the floor of $floor in .ci/minimum-tests: tests were lost (raise the floor when you add tests, never lower it to pass)")
fi
for problem in "${problems[@]}"; do
  echo "test summary: $problem" >&2
done
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ ${#problems[@]} -eq 0 ]
