#pragma once

// What inbound_bench and its raw subscriber share: the payload format, the
// tally of distinct messages, and the peak-RSS probe.

#include <sys/types.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bridge::bench {

using Clock = std::chrono::steady_clock;

inline constexpr std::size_t kSeqDigits = 10;

/// A payload of exactly `size` bytes that starts with the zero-padded
/// sequence number, so receivers can count distinct messages.
inline std::string Payload(int seq, int size) {
  char digits[kSeqDigits + 1];
  std::snprintf(digits, sizeof(digits), "%010d", seq);
  std::string payload(digits, kSeqDigits);
  if (size > static_cast<int>(kSeqDigits)) payload.append(static_cast<std::size_t>(size) - kSeqDigits, 'x');
  return payload;
}

inline int ParseSeq(std::string_view payload) {
  if (payload.size() < kSeqDigits) return -1;
  int seq = -1;
  auto [end, ec] = std::from_chars(payload.data(), payload.data() + kSeqDigits, seq);
  return ec == std::errc() && end == payload.data() + kSeqDigits ? seq : -1;
}

/// VmHWM (peak resident set) of a live process in KiB; nullopt if unreadable.
inline std::optional<long> PeakRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return std::nullopt;
}

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

/// Counts distinct sequence numbers in [0, total) and remembers when the last
/// one arrived. Thread-safe.
class Tally {
 public:
  explicit Tally(int total) : seen_(static_cast<std::size_t>(total), false) {}

  void Record(std::string_view payload) {
    const int seq = ParseSeq(payload);
    std::lock_guard lock(mu_);
    if (seq < 0 || seq >= static_cast<int>(seen_.size())) {
      return;  // not ours
    } else if (seen_[static_cast<std::size_t>(seq)]) {
      ++duplicates_;
    } else {
      seen_[static_cast<std::size_t>(seq)] = true;
      if (++distinct_ == static_cast<int>(seen_.size())) last_ = Clock::now();
    }
    changed_.notify_all();
  }

  bool WaitDistinct(int n, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return changed_.wait_until(lock, deadline, [&] { return distinct_ >= n; });
  }

  int distinct() const { std::lock_guard lock(mu_); return distinct_; }
  int duplicates() const { std::lock_guard lock(mu_); return duplicates_; }
  Clock::time_point last() const { std::lock_guard lock(mu_); return last_; }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<bool> seen_;
  int distinct_ = 0;
  int duplicates_ = 0;
  Clock::time_point last_{};
};

}  // namespace bridge::bench
