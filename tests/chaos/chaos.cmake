# Chaos tests (label chaos): the durable inbox against SIGKILLed bridges,
# restarted brokers, nacks and streams that are not attached. Real mosquitto,
# real daemon, the integration harness. A few minutes in all; included from
# tests/CMakeLists.txt.
#   ctest --test-dir <build> -L chaos --output-on-failure
# Not under qemu: 20,000 messages through an emulated bridge take far too long.
if(CMAKE_CROSSCOMPILING)
  return()
endif()

file(GLOB chaos_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
file(GLOB chaos_support_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/integration/support/*.cpp)
add_executable(chaos_tests
  ${chaos_sources}
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/bridge/bridge_harness.cpp
  ${chaos_support_sources})
target_include_directories(chaos_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/integration)
target_link_libraries(chaos_tests PRIVATE dapr_mqtt_bridge_core GTest::gmock GTest::gtest_main bridge_warnings)
target_compile_definitions(chaos_tests PRIVATE
  BRIDGE_MOSQUITTO_PATH="${BRIDGE_MOSQUITTO}"
  BRIDGE_DAEMON_PATH="$<TARGET_FILE:dapr-mqtt-bridge>"
  BRIDGE_EMULATOR="$<$<BOOL:${CMAKE_CROSSCOMPILING}>:${CMAKE_CROSSCOMPILING_EMULATOR}>")
add_dependencies(chaos_tests dapr-mqtt-bridge)
gtest_discover_tests(chaos_tests DISCOVERY_MODE PRE_TEST
  PROPERTIES LABELS chaos TIMEOUT 600)
