#!/bin/sh
# Run libFuzzer targets built in build-fuzz/ (make fuzz-build), each for
# SECONDS from its seed corpus fuzz/corpus/<target>/ (read only: what the
# fuzzer adds goes to build-fuzz/corpus/<target>/). A finding stops the run
# with a non-zero status; its input is in fuzz/findings/<target>/, its log
# in build-fuzz/<target>.log (the end of it is printed).
#   fuzz/run.sh SECONDS TARGET...
set -eu
cd "$(dirname "$0")/.."
secs=$1
shift
for t in "$@"; do
  mkdir -p "build-fuzz/corpus/$t" "fuzz/findings/$t"
  log="build-fuzz/$t.log"
  # -timeout: one input taking longer is a finding (a hang); the guard
  # stops a run that would not end by itself
  if ! timeout -k 10 "$((secs + 120))" "build-fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="fuzz/findings/$t/" \
      "build-fuzz/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz_$t: FINDING (input in fuzz/findings/$t/, log in $log)"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  corpus=$(ls "build-fuzz/corpus/$t" | wc -l)
  echo "fuzz_$t: ${runs:-?} inputs in ${secs} s, corpus $corpus, no finding"
done
