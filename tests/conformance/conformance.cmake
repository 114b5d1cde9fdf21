# Dapr's pub/sub conformance suite (components-contrib tests/conformance/pubsub)
# run against the bridge through daprd's own pluggable pub/sub adapter; the Go
# test lives in tests/daprd/conformance (see tests/conformance/README.md).
# Included from tests/CMakeLists.txt. Label: conformance
#   ctest --test-dir <build> -L conformance --output-on-failure
if(CMAKE_CROSSCOMPILING)
  return()
endif()

find_program(GO go PATHS /usr/local/go/bin)
if(GO)
  add_test(NAME pubsub_conformance
    COMMAND ${GO} test -count=1 -v -timeout 15m ./conformance/...
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/daprd)
else()
  # No Go toolchain: fail loudly instead of silently dropping the suite.
  add_test(NAME pubsub_conformance
    COMMAND sh -c "echo 'pubsub_conformance: go not found (looked in PATH and /usr/local/go/bin); Go >= 1.26.5 is needed' >&2; exit 1")
endif()
set_tests_properties(pubsub_conformance PROPERTIES
  ENVIRONMENT "BRIDGE_BIN=$<TARGET_FILE:dapr-mqtt-bridge>;MOSQUITTO_BIN=${BRIDGE_MOSQUITTO}"
  LABELS conformance
  TIMEOUT 1500
  RUN_SERIAL TRUE
  # daprd_build (tests/e2e/e2e.cmake) warms the Go build cache for the
  # tests/daprd module; without it this test compiles on its own.
  FIXTURES_REQUIRED daprd)
