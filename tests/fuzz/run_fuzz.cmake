# Run one libFuzzer target for a bounded number of inputs on a fresh copy of
# its seed corpus (libFuzzer writes new inputs into the corpus directory, so
# it must not be the one in the source tree).
#   cmake -DFUZZER=<exe> -DSEEDS=<dir> -DWORK=<dir> -DRUNS=<n> -DMAX_TIME=<s> -P run_fuzz.cmake
foreach(v FUZZER SEEDS WORK RUNS MAX_TIME)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzz.cmake: ${v} not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
if(IS_DIRECTORY ${SEEDS})
  file(GLOB _seeds ${SEEDS}/*)
  if(_seeds)
    file(COPY ${_seeds} DESTINATION ${WORK})
  endif()
endif()
set(_art ${WORK}-crashes)
file(MAKE_DIRECTORY ${_art})
execute_process(
  COMMAND ${FUZZER} -runs=${RUNS} -max_total_time=${MAX_TIME} -max_len=4096 -timeout=10
          -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${_art}/ ${WORK}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); the crashing input is in ${_art}/")
endif()
