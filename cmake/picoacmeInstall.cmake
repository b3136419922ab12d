# picoacmeInstall.cmake - `cmake --install`: headers, static libraries, the
# CMake package (find_package(picoacme) -> picoacme::core, picoacme::posix,
# picoacme::wolfssl) and picoacme.pc for pkg-config. Included last by the
# top CMakeLists.txt.
#
#   <prefix>/include/picoacme/          picoacme*.h (core and ports)
#   <prefix>/include/picoacme/wolfssl/  wolfSSL headers + user_settings.h,
#                                       only when wolfSSL is built from source
#   <prefix>/lib/libpicoacme_*.a
#   <prefix>/lib/cmake/picoacme/        picoacmeConfig.cmake, version, targets
#   <prefix>/lib/pkgconfig/picoacme.pc
#
# jsmn.h is not installed: only core/src/json_read.c includes it.
include(CMakePackageConfigHelpers)

set(PICOACME_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/picoacme"
    CACHE STRING "where picoacmeConfig.cmake is installed, relative to the prefix")
set(_inc "${CMAKE_INSTALL_INCLUDEDIR}/picoacme")

file(GLOB _core_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/core/include/picoacme/*.h)
install(FILES ${_core_headers} DESTINATION ${_inc})
if(PICOACME_CONFIG_FILE)
  # the core's PUBLIC PICOACME_CONFIG_FILE names this copy once installed
  install(FILES ${PICOACME_CONFIG_FILE} DESTINATION ${_inc} RENAME picoacme_build_config.h)
  # pkg-config prints it shell-quoted: right in a Makefile recipe or eval
  set(PICOACME_PC_CONFIG_CFLAGS " -DPICOACME_CONFIG_FILE=\\\"picoacme_build_config.h\\\"")
else()
  set(PICOACME_PC_CONFIG_CFLAGS "")
endif()

set(_targets picoacme_core)
set(PICOACME_PC_LIBS "-lpicoacme_core")
set(PICOACME_PC_REQUIRES "")
set(PICOACME_PC_EXTRA_CFLAGS "")
set(PICOACME_WOLFSSL_MODE "none")
if(PICOACME_HOST)
  foreach(_d ${PICOACME_POSIX_INCLUDE_DIRS} ${PICOACME_WOLFSSL_INCLUDE_DIRS})
    file(GLOB _h ${_d}/*.h)
    install(FILES ${_h} DESTINATION ${_inc})
  endforeach()
  list(APPEND _targets picoacme_posix picoacme_wolfssl)
  # static libraries: a user of one needs the ones it uses after it
  set(PICOACME_PC_LIBS "-lpicoacme_wolfssl -lpicoacme_posix -lpicoacme_core -pthread")
  if(PICOACME_WOLFSSL_BUILT_SRC)
    # wolfSSL compiled here with user_settings_host.h: its library, headers
    # and settings go along (a user must see the same struct layouts).
    set(PICOACME_WOLFSSL_MODE "source")
    list(APPEND _targets picoacme_wolfssl_lib)
    install(DIRECTORY ${PICOACME_WOLFSSL_BUILT_SRC}/wolfssl DESTINATION ${_inc}/wolfssl
            FILES_MATCHING PATTERN "*.h")
    install(FILES ${PICOACME_WOLFSSL_USER_SETTINGS} DESTINATION ${_inc}/wolfssl
            RENAME user_settings.h)
    string(APPEND PICOACME_PC_LIBS " -lpicoacme_wolfssl_lib -pthread")
    set(PICOACME_PC_EXTRA_CFLAGS " -I\${includedir}/picoacme/wolfssl -DWOLFSSL_USER_SETTINGS")
  else()
    set(PICOACME_WOLFSSL_MODE "system")
    # hints for picoacmeConfig.cmake's look-up on the user's machine
    get_filename_component(_picoacme_wolfssl_libdir "${WOLFSSL_LIB}" DIRECTORY)
    find_path(PICOACME_WOLFSSL_INCLUDE_DIR wolfssl/ssl.h)
    set(_picoacme_wolfssl_incdir "${PICOACME_WOLFSSL_INCLUDE_DIR}")
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(PICOACME_PC_WOLFSSL QUIET wolfssl)
    endif()
    if(PICOACME_PC_WOLFSSL_FOUND)
      set(PICOACME_PC_REQUIRES "wolfssl")
    else()
      string(APPEND PICOACME_PC_LIBS " -lwolfssl")
    endif()
  endif()
endif()

install(TARGETS ${_targets} EXPORT picoacmeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT picoacmeTargets NAMESPACE picoacme:: FILE picoacmeTargets.cmake
        DESTINATION ${PICOACME_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/picoacmeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/picoacmeConfig.cmake
  INSTALL_DESTINATION ${PICOACME_INSTALL_CMAKEDIR})
# 0.x: a minor release may break the API
write_basic_package_version_file(${PROJECT_BINARY_DIR}/picoacmeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/picoacmeConfig.cmake
              ${PROJECT_BINARY_DIR}/picoacmeConfigVersion.cmake
        DESTINATION ${PICOACME_INSTALL_CMAKEDIR})

# pkg-config: ${prefix} is resolved at install time, so that
# `cmake --install build --prefix DIR` gives a picoacme.pc for DIR.
configure_file(${PROJECT_SOURCE_DIR}/cmake/picoacme.pc.in ${PROJECT_BINARY_DIR}/picoacme.pc.in @ONLY)
install(CODE "
  set(_pfx \"\${CMAKE_INSTALL_PREFIX}\")
  file(READ \"${PROJECT_BINARY_DIR}/picoacme.pc.in\" _pc)
  string(REPLACE \"%%PREFIX%%\" \"\${_pfx}\" _pc \"\${_pc}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/picoacme.pc\" \"\${_pc}\")
")
install(FILES ${PROJECT_BINARY_DIR}/picoacme.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
