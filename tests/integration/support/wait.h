#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace bridge::testing {

/// Binds 127.0.0.1:0, reads the port the kernel picked, and closes the socket.
/// Returns 0 on failure. Another process could take the port before the caller
/// binds it; on loopback in a test that window is small enough.
uint16_t FreeLoopbackPort();

/// Polls `condition` every `poll` until it returns true (→ true) or `deadline`
/// has passed (→ false). The condition is always evaluated at least once, and
/// once more at the deadline.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
               std::chrono::milliseconds poll = std::chrono::milliseconds(5));

/// True if a TCP connection to 127.0.0.1:port succeeds right now.
bool LoopbackPortAccepts(uint16_t port);

}  // namespace bridge::testing
