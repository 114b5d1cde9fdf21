#pragma once

#include <chrono>

namespace bridge {

/// `point + delay`, clamped to the clock's maximum instead of overflowing.
/// Delays come from user metadata and may be huge (Go allows 2562047h);
/// a wrapped sum would lie in the past and fire at once.
template <typename TimePoint, typename Rep, typename Period>
TimePoint SaturatingAdd(TimePoint point, std::chrono::duration<Rep, Period> delay) {
  using Duration = typename TimePoint::duration;
  if (delay <= std::chrono::duration<Rep, Period>::zero()) return point;
  const auto headroom = TimePoint::max() - point;
  if (std::chrono::duration_cast<std::chrono::duration<double>>(delay) >=
      std::chrono::duration_cast<std::chrono::duration<double>>(headroom)) {
    return TimePoint::max();
  }
  return point + std::chrono::duration_cast<Duration>(delay);
}

}  // namespace bridge
