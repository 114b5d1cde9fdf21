# Debian packages with CPack, and the packaging tests.
#
#   cmake --build --preset aarch64 && (cd build-aarch64 && cpack -G DEB)
#   -> build-aarch64/dapr-mqtt-bridge_<version>_arm64.deb
#
# The binary comes from the top-level install(TARGETS ... DESTINATION bin);
# with CPACK_PACKAGING_INSTALL_PREFIX /usr it lands in /usr/bin.

# --- Debian architecture ----------------------------------------------------
# Cross builds name it from the toolchain's multiarch triplet; native builds
# ask dpkg. Both decide which libraries dpkg-shlibdeps looks up for Depends.
set(_bridge_deb_arch_by_triplet
  "aarch64-linux-gnu=arm64" "arm-linux-gnueabihf=armhf" "x86_64-linux-gnu=amd64")
set(BRIDGE_DEB_ARCH "")
if(CMAKE_CROSSCOMPILING)
  foreach(pair IN LISTS _bridge_deb_arch_by_triplet)
    string(REPLACE "=" ";" pair "${pair}")
    list(GET pair 0 _triplet)
    list(GET pair 1 _arch)
    if(CMAKE_LIBRARY_ARCHITECTURE STREQUAL _triplet)
      set(BRIDGE_DEB_ARCH ${_arch})
    endif()
  endforeach()
  if(NOT BRIDGE_DEB_ARCH)
    message(WARNING "packaging: no Debian architecture for triplet '${CMAKE_LIBRARY_ARCHITECTURE}'")
  endif()
else()
  find_program(BRIDGE_DPKG dpkg)
  if(BRIDGE_DPKG)
    execute_process(COMMAND ${BRIDGE_DPKG} --print-architecture
      OUTPUT_VARIABLE BRIDGE_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
endif()

# --- what the package installs ----------------------------------------------
set(_bridge_systemd ${CMAKE_CURRENT_SOURCE_DIR}/systemd)
# /usr/lib/systemd/system: the same directory as /lib/systemd/system on
# Debian 12's merged /usr.
install(FILES ${_bridge_systemd}/dapr-mqtt-bridge.service DESTINATION lib/systemd/system)
install(FILES ${_bridge_systemd}/dapr-mqtt-bridge.default
  DESTINATION /etc/default RENAME dapr-mqtt-bridge)
set(_bridge_docdir share/doc/dapr-mqtt-bridge)
install(FILES ${_bridge_systemd}/daprd.service.d/10-dapr-mqtt-bridge.conf
  DESTINATION ${_bridge_docdir}/examples/daprd.service.d)
foreach(doc README.md LICENSE)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${doc})
    install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/${doc} DESTINATION ${_bridge_docdir})
  endif()
endforeach()

# --- maintainer scripts -----------------------------------------------------
# The unit is not enabled on install: it needs daprd's group and the flags in
# /etc/default/dapr-mqtt-bridge first (see README).
set(_bridge_control ${CMAKE_CURRENT_BINARY_DIR}/deb-control)
file(MAKE_DIRECTORY ${_bridge_control})
file(WRITE ${_bridge_control}/conffiles "/etc/default/dapr-mqtt-bridge\n")
file(WRITE ${_bridge_control}/postinst [=[#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
  # Upgrades: restart a running bridge on the new binary (daprd follows via its drop-in).
  if [ -n "$2" ]; then systemctl try-restart dapr-mqtt-bridge.service >/dev/null || true; fi
fi
exit 0
]=])
file(WRITE ${_bridge_control}/prerm [=[#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop dapr-mqtt-bridge.service >/dev/null || true
fi
exit 0
]=])
file(WRITE ${_bridge_control}/postrm [=[#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
  # DynamicUser= keeps the state under /var/lib/private.
  rm -rf /var/lib/private/dapr-mqtt-bridge /var/lib/dapr-mqtt-bridge
fi
exit 0
]=])
foreach(script postinst prerm postrm)
  file(CHMOD ${_bridge_control}/${script}
    PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

# --- CPack ------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dapr-mqtt-bridge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "dapr-mqtt-bridge")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Dapr pluggable pub/sub component for MQTT brokers")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "dapr-mqtt-bridge maintainers <maintainers@users.noreply.r-seed-7d4ebc28.example>")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Dapr pluggable pub/sub component for MQTT brokers
 A daemon that daprd discovers on a Unix socket in
 /run/dapr-components-sockets and that bridges Dapr publish and subscribe to
 an MQTT broker. Runs as a hardened systemd Type=notify service.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # dapr-mqtt-bridge_<version>_<arch>.deb
if(BRIDGE_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${BRIDGE_DEB_ARCH})
endif()
# Depends from dpkg-shlibdeps (dpkg-dev). For a foreign ELF it finds the
# :arm64/:armhf libraries through /etc/ld.so.conf.d/<triplet>.conf, installed
# with libc6:<arch>.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_bridge_control}/conffiles ${_bridge_control}/postinst
  ${_bridge_control}/prerm ${_bridge_control}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Stripped with the target's strip (CMAKE_STRIP from the toolchain file),
# except in Debug builds.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(CPACK_STRIP_FILES TRUE)
endif()
include(CPack)

# --- tests ------------------------------------------------------------------
if(BRIDGE_BUILD_TESTS)
  set(_bridge_packaging_tests ${CMAKE_CURRENT_SOURCE_DIR}/tests/packaging)
  if(NOT CMAKE_CROSSCOMPILING)
    add_test(NAME packaging.systemd_verify
      COMMAND ${_bridge_packaging_tests}/verify-systemd.sh $<TARGET_FILE:dapr-mqtt-bridge>)
    set_tests_properties(packaging.systemd_verify PROPERTIES LABELS packaging TIMEOUT 120)
  endif()
  # Builds this build's .deb into a temporary folder, unpacks it and runs the
  # binary's --version (through qemu when cross-compiled).
  add_test(NAME packaging.deb
    COMMAND ${_bridge_packaging_tests}/deb-test.sh ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(packaging.deb PROPERTIES LABELS packaging TIMEOUT 600)
endif()
