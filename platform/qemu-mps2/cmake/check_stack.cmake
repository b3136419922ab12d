# check_stack.cmake - fail the build if data + bss leave less than the
# stack reservation below the top of RAM. picolibc's script reserves a
# fixed 2 KiB .stack (its DEFINED(__stack_size) does not see --defsym
# there), so the firmware's own reservation is checked here.
#   cmake -DNM=arm-none-eabi-nm -DELF=fw.elf -DSTACK=8192 -P check_stack.cmake
execute_process(COMMAND ${NM} ${ELF} OUTPUT_VARIABLE _syms RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${ELF}")
endif()
string(REGEX MATCH "([0-9a-f]+) [A-Za-z] __bss_end\n" _m "${_syms}")
set(_end "${CMAKE_MATCH_1}")
string(REGEX MATCH "([0-9a-f]+) [A-Za-z] __stack\n" _m "${_syms}")
set(_top "${CMAKE_MATCH_1}")
if(_end STREQUAL "" OR _top STREQUAL "")
  message(FATAL_ERROR "no __bss_end/__stack in ${ELF}")
endif()
math(EXPR _free "0x${_top} - 0x${_end}")
if(_free LESS STACK)
  message(FATAL_ERROR "${ELF}: ${_free} bytes between bss and the top of RAM, the stack needs ${STACK}")
endif()
math(EXPR _used "0x${_top} - 0x20000000 - ${_free} + ${STACK}")
message(STATUS "${ELF}: RAM data+bss+stack ${_used} bytes (stack ${STACK}), ${_free} bytes above bss")
