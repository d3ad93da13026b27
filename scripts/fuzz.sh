#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in a build folder of their own (only what the
# targets need), then runs each on its seed corpus for a bounded time.
#
#   scripts/fuzz.sh [--seconds N] [--target NAME]... [--sanitize-tests] [--no-fuzz]
#
#   --seconds N       fuzzing time per target (default 60)
#   --target NAME     only this target (repeatable); the names are those of
#                     tests/fuzz/CMakeLists.txt's lienthong_fuzz_target lines
#                     (config_yaml, oidc_token, journal_segment, ...), all of
#                     them by default
#   --sanitize-tests  also build and run the unit tests of the fuzzed parsers,
#                     and of the bundle runtime's step invoker (callbacks on
#                     other threads), under ASan and UBSan
#   --no-fuzz         build, and run only what --sanitize-tests asks for
#
# FUZZ_BUILD_DIR (default build-fuzz) is the build folder. New inputs go to
# $FUZZ_BUILD_DIR/fuzz-corpus/NAME, findings to $FUZZ_BUILD_DIR/fuzz-out/NAME
# (copy a fixed crash's input into tests/fuzz/corpus/NAME/ so that the
# ordinary test suite replays it). Prints one line per target: executions,
# seconds, corpus size, result. Exit 0 when nothing was found, 1 on a finding
# or a failed test, 2 on a usage error. Needs clang and libclang-rt-14-dev
# (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
sanitize_tests=0
fuzz=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --target) targets+=("${2:?--target needs a name}"); shift 2 ;;
    --sanitize-tests) sanitize_tests=1; shift ;;
    --no-fuzz) fuzz=0; shift ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: --seconds takes a whole number" >&2; exit 2 ;; esac
command -v clang++ >/dev/null || {
  echo "fuzz.sh: clang++ not found; run scripts/install-deps.sh" >&2; exit 2; }

build=${FUZZ_BUILD_DIR:-build-fuzz}
# Every target tests/fuzz/CMakeLists.txt declares, in its order.
mapfile -t all_targets < <(sed -n 's/^lienthong_fuzz_target(NAME \([a-z0-9_]*\) .*/\1/p' \
                             tests/fuzz/CMakeLists.txt)
[ ${#all_targets[@]} -gt 0 ] || {
  echo "fuzz.sh: no fuzz target found in tests/fuzz/CMakeLists.txt" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $t "*) ;;
    *) echo "fuzz.sh: no fuzz target '$t' (there are: ${all_targets[*]})" >&2
       exit 2 ;;
  esac
done
# The unit tests of the fuzzed parsers, and the bundle runtime's step
# invoker's, whose callbacks run on other threads (valgrind once found a
# use-after-free there), and the rate limiter's (a permit released after
# its limiter is gone: only the address sanitizer would see it wrong).
tests=(config_loader_test yaml_to_proto_test cli_catalogue_test citizen_id_test
       admin_http_request_test c06_lookup_response_test c06_verify_response_test
       dvcqg_portal_response_test vneid_jws_test vneid_jwk_test vneid_id_token_test
       agency_answer_test ministry_rest_json_translation_test audit_journal_test
       audit_verify_test calendar_holiday_file_test dates_test
       bundle_runtime_step_invoker_test resilience_rate_limiter_test)

sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=all"
if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER=clang++ -DLIENTHONG_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer $sanitizers -fsanitize=fuzzer-no-link" \
    -DCMAKE_EXE_LINKER_FLAGS="$sanitizers" > "$build/configure.log" 2>&1 || {
      cat "$build/configure.log" >&2; exit 1; }
fi
build_targets=()
[ $fuzz -eq 1 ] && for t in "${targets[@]}"; do build_targets+=("${t}_fuzz"); done
[ $sanitize_tests -eq 1 ] && build_targets+=("${tests[@]}")
[ ${#build_targets[@]} -gt 0 ] || { echo "fuzz.sh: nothing to do" >&2; exit 2; }
cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}"

status=0
if [ $sanitize_tests -eq 1 ]; then
  regex="^($(IFS='|'; echo "${tests[*]}"))\$"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$build" -R "$regex" --output-on-failure || status=1
fi

if [ $fuzz -eq 1 ]; then
  printf '%-16s %12s %8s %8s  %s\n' target executions seconds corpus result
  for t in "${targets[@]}"; do
    seeds=tests/fuzz/corpus/$t
    work=$build/fuzz-corpus/$t
    out=$build/fuzz-out/$t
    mkdir -p "$work" "$out"
    log=$out/fuzz.log
    result=ok
    # The work corpus first: libFuzzer adds what it finds there and only
    # reads the seeds.
    if ! UBSAN_OPTIONS=print_stacktrace=1 "$build/tests/fuzz/${t}_fuzz" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/" "$work" "$seeds" \
        > "$log" 2>&1; then
      result="FINDING (see $log and $out/)"
      status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^stat::total_time: *//p' "$log" | tail -1) # absent in 14
    [ -n "$took" ] || took=$seconds
    printf '%-16s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "$took" \
      "$(find "$work" -type f | wc -l)" "$result"
  done
fi
exit $status
