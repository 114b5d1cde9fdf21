#include "config/duration.h"

#include <cstdint>
#include <limits>

namespace bridge {
namespace {

constexpr std::uint64_t kNanosPerMilli = 1'000'000;
// Go's time.Duration is int64 nanoseconds; we accept the same range.
constexpr std::uint64_t kMaxNanos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

struct Unit {
  std::string_view name;
  std::uint64_t nanos;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC Greek small mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60ULL * 1'000'000'000},
    {"h", 3600ULL * 1'000'000'000},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The input quoted for a message: printable and bounded, whatever it holds.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    out += (byte < 0x20 || byte == 0x7f || byte == '"') ? '?' : text[i];
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "\"";
}

Error NotADuration(std::string_view text) {
  return InvalidArgument(Quote(text) +
                         " is not a duration (use e.g. 500ms, 1.5s, 1m30s, 2h, or whole seconds like 30)");
}

Error OutOfRange(std::string_view text) {
  return InvalidArgument(Quote(text) + " is out of range");
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string_view original = text;
  if (text.empty()) return InvalidArgument("empty value is not a duration");
  if (text.front() == '-') return InvalidArgument(Quote(original) + " is negative");
  if (text.front() == '+') text.remove_prefix(1);
  if (text == "0") return std::chrono::milliseconds{0};
  if (text.empty()) return NotADuration(original);

  // A bare whole number is seconds, as in Dapr's "ttlInSeconds"-style values.
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && IsDigit(c);
  if (all_digits) {
    std::uint64_t seconds = 0;
    for (char c : text) {
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (seconds > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return OutOfRange(original);
      seconds = seconds * 10 + digit;
    }
    if (seconds > kMaxNanos / 1'000'000'000) return OutOfRange(original);
    return std::chrono::milliseconds{static_cast<std::int64_t>(seconds * 1000)};
  }

  // Go's algorithm: a sequence of <decimal><unit>, summed in nanoseconds.
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t whole = 0;
    std::size_t i = 0;
    bool overflow = false;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      const auto digit = static_cast<std::uint64_t>(text[i] - '0');
      if (whole > (kMaxNanos - digit) / 10) overflow = true;
      if (!overflow) whole = whole * 10 + digit;
    }
    if (overflow) return OutOfRange(original);
    const bool had_whole = i > 0;
    text.remove_prefix(i);

    // Fraction digits beyond what can matter are dropped, as Go does.
    std::uint64_t fraction = 0;
    std::uint64_t scale = 1;
    bool had_fraction = false;
    if (!text.empty() && text.front() == '.') {
      text.remove_prefix(1);
      i = 0;
      for (; i < text.size() && IsDigit(text[i]); ++i) {
        if (scale <= kMaxNanos / 10 && fraction <= (kMaxNanos - 9) / 10) {
          fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
          scale *= 10;
        }
      }
      had_fraction = i > 0;
      text.remove_prefix(i);
    }
    if (!had_whole && !had_fraction) return NotADuration(original);

    std::size_t unit_len = 0;
    while (unit_len < text.size() && text[unit_len] != '.' && !IsDigit(text[unit_len])) ++unit_len;
    const std::string_view unit_name = text.substr(0, unit_len);
    if (unit_name.empty()) return NotADuration(original);  // "1.5" needs a unit; only whole numbers may omit it
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (candidate.name == unit_name) unit = &candidate;
    }
    if (unit == nullptr) return NotADuration(original);
    text.remove_prefix(unit_len);

    if (whole > kMaxNanos / unit->nanos) return OutOfRange(original);
    std::uint64_t value = whole * unit->nanos;
    if (fraction > 0) {
      // fraction/scale < 1, so this cannot overflow in long double and the
      // product is below unit->nanos.
      const auto extra = static_cast<std::uint64_t>(static_cast<long double>(fraction) *
                                                    (static_cast<long double>(unit->nanos) / static_cast<long double>(scale)));
      if (value > kMaxNanos - extra) return OutOfRange(original);
      value += extra;
    }
    if (total > kMaxNanos - value) return OutOfRange(original);
    total += value;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(total / kNanosPerMilli)};
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;  // durations here are never near INT64_MIN
  }
  if (ms == 0) return "0s";
  if (ms < 1000) return out + std::to_string(ms) + "ms";
  const std::int64_t hours = ms / 3'600'000;
  const std::int64_t minutes = (ms / 60'000) % 60;
  const std::int64_t seconds = (ms / 1000) % 60;
  const std::int64_t millis = ms % 1000;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(seconds);
  if (millis > 0) {
    std::string frac = std::to_string(millis);
    frac.insert(0, 3 - frac.size(), '0');
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  out += "s";
  return out;
}

}  // namespace bridge
