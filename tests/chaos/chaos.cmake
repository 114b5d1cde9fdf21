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
add_executable(chaos_tests ${chaos_sources})
target_link_libraries(chaos_tests PRIVATE bridge_test_harness GTest::gmock GTest::gtest_main bridge_warnings)
gtest_discover_tests(chaos_tests DISCOVERY_MODE PRE_TEST
  PROPERTIES LABELS chaos TIMEOUT 600)
