#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bridge {

/// Parses a duration the way Dapr component metadata spells them:
///   - a Go duration: "500ms", "1.5s", "1m30s", "2h45m", "0"; units ns, us, µs,
///     ms, s, m, h; an optional leading '+'; fractions on any unit;
///   - a bare non-negative whole number, meaning seconds: "30".
/// Negative values, garbage and anything beyond Go's range (~292 years) are an
/// InvalidArgument whose message does not name a key (the caller adds it).
/// Precision below one millisecond is truncated ("1500us" is 1ms).
/// Pure and thread-safe.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// Formats a duration so that ParseDuration reads it back: "0s", "250ms",
/// "30s", "1m30s", "1h0m0.5s" (Go's time.Duration.String form at ms precision).
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace bridge
