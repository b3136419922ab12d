# check_filepaths.cmake - cmake -P: every .c file of core/src and of the
# ports is in its list in cmake/picoacmeFilePaths.cmake, and every listed
# file and include directory exists. Prints what is missing or extra.
#
#   cmake -P tests/config/check_filepaths.cmake
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/picoacmeFilePaths.cmake)

set(_bad 0)
foreach(_pair core/src:PICOACME_CORE_SOURCES ports/posix/src:PICOACME_POSIX_SOURCES
              ports/wolfssl/src:PICOACME_WOLFSSL_SOURCES ports/lwip/src:PICOACME_LWIP_SOURCES
              ports/bsdsock/src:PICOACME_BSDSOCK_ALL_SOURCES ports/zephyr/src:PICOACME_ZEPHYR_SOURCES
              ports/pkcs11/src:PICOACME_PKCS11_SOURCES ports/tpm2/src:PICOACME_TPM2_SOURCES)
  string(REPLACE ":" ";" _pair "${_pair}")
  list(GET _pair 0 _dir)
  list(GET _pair 1 _var)
  file(GLOB _on_disk "${PICOACME_ROOT_DIR}/${_dir}/*.c")
  set(_listed ${${_var}})
  set(_missing ${_on_disk})
  set(_extra ${_listed})
  if(_listed)
    list(REMOVE_ITEM _missing ${_listed})
  endif()
  if(_on_disk)
    list(REMOVE_ITEM _extra ${_on_disk})
  endif()
  list(LENGTH _listed _n)
  foreach(_f ${_missing})
    file(RELATIVE_PATH _r "${PICOACME_ROOT_DIR}" "${_f}")
    message(SEND_ERROR "${_var}: ${_r} is not listed (add it to cmake/picoacmeFilePaths.cmake)")
    set(_bad 1)
  endforeach()
  foreach(_f ${_extra})
    file(RELATIVE_PATH _r "${PICOACME_ROOT_DIR}" "${_f}")
    message(SEND_ERROR "${_var}: ${_r} is listed but does not exist")
    set(_bad 1)
  endforeach()
  list(REMOVE_DUPLICATES _listed)
  list(LENGTH _listed _u)
  if(NOT _u EQUAL _n)
    message(SEND_ERROR "${_var}: a file is listed twice")
    set(_bad 1)
  endif()
  message(STATUS "${_var}: ${_n} files, ${_dir}/*.c")
endforeach()

foreach(_var PICOACME_CORE_INCLUDE_DIRS PICOACME_CORE_PRIVATE_INCLUDE_DIRS
             PICOACME_POSIX_INCLUDE_DIRS PICOACME_WOLFSSL_INCLUDE_DIRS PICOACME_LWIP_INCLUDE_DIRS
             PICOACME_BSDSOCK_INCLUDE_DIRS PICOACME_ZEPHYR_INCLUDE_DIRS)
  foreach(_d ${${_var}})
    if(NOT IS_DIRECTORY "${_d}")
      message(SEND_ERROR "${_var}: ${_d} is no directory")
      set(_bad 1)
    endif()
  endforeach()
endforeach()

if(_bad)
  message(FATAL_ERROR "cmake/picoacmeFilePaths.cmake is out of step with the tree")
endif()
message(STATUS "cmake/picoacmeFilePaths.cmake lists every source file")
