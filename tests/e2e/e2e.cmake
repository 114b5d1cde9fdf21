# End-to-end tests with real processes: mosquitto, the bridge, our daprd
# (tests/daprd, built by scripts/build-daprd.sh) and a small HTTP app inside
# the Go test process. The Go module is tests/e2e (stdlib only); see
# tests/e2e/README.md. Included from tests/CMakeLists.txt.
#   ctest --test-dir <build> -L e2e --output-on-failure
if(CMAKE_CROSSCOMPILING)
  return()
endif()

find_program(GO go PATHS /usr/local/go/bin)
find_program(BRIDGE_MOSQUITTO_PUB mosquitto_pub)
find_program(BRIDGE_MOSQUITTO_SUB mosquitto_sub)

# Builds build-daprd/daprd (dapr v1.18.2) with Go's default caches; warm: ~2 s.
# The conformance suite (tests/conformance) requires this fixture too.
add_test(NAME daprd_build COMMAND ${CMAKE_SOURCE_DIR}/scripts/build-daprd.sh)
if(GO)
  # The same Go as the tests; without one the script itself fails loudly.
  set_tests_properties(daprd_build PROPERTIES ENVIRONMENT "GO=${GO}")
endif()
set_tests_properties(daprd_build PROPERTIES
  TIMEOUT 1800
  FIXTURES_SETUP daprd
  LABELS "e2e;conformance")

if(GO)
  add_test(NAME e2e_daprd
    COMMAND ${GO} test -count=1 -v -timeout 15m ./...
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/e2e)
else()
  # No Go toolchain: fail loudly instead of silently dropping the suite.
  add_test(NAME e2e_daprd
    COMMAND sh -c "echo 'e2e_daprd: go not found (looked in PATH and /usr/local/go/bin)' >&2; exit 1")
endif()
# A missing binary (NOTFOUND or absent file) makes the Go tests fail loudly.
set_tests_properties(e2e_daprd PROPERTIES
  ENVIRONMENT "BRIDGE_BIN=$<TARGET_FILE:dapr-mqtt-bridge>;DAPRD_BIN=${CMAKE_SOURCE_DIR}/build-daprd/daprd;MOSQUITTO_BIN=${BRIDGE_MOSQUITTO};MOSQUITTO_PUB=${BRIDGE_MOSQUITTO_PUB};MOSQUITTO_SUB=${BRIDGE_MOSQUITTO_SUB}"
  FIXTURES_REQUIRED daprd
  LABELS e2e
  TIMEOUT 900
  # Starts many processes and measures redelivery timing; the machine has 2 cores.
  RUN_SERIAL TRUE)
