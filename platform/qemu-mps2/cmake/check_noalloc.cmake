# check_noalloc.cmake - fail the build if the firmware links an allocator.
#   cmake -DNM=arm-none-eabi-nm -DELF=fw.elf -P check_noalloc.cmake
execute_process(COMMAND ${NM} ${ELF} OUTPUT_VARIABLE _syms RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${ELF}")
endif()
string(REGEX MATCHALL "[^\n]* (malloc|free|calloc|realloc|_sbrk|sbrk|_malloc_r|_free_r)\n" _bad "${_syms}")
if(_bad)
  message(FATAL_ERROR "allocator linked into ${ELF}:\n${_bad}")
endif()
message(STATUS "${ELF}: no malloc/free/calloc/realloc/_sbrk")
