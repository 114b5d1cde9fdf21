// inbound_bench: how fast QoS1 messages get from MQTT through the bridge to
// an acking daprd, per inbox durability, as a ratio to a raw Paho subscriber
// measured in the same run against the same broker.
//
// Why the shape below:
// - Everything runs in one private mosquitto on a free loopback port, with
//   max_queued_messages high so that the broker never drops for a slow
//   subscriber (its default of 1000 would).
// - The publisher is a pipelined Paho client in this process (window ~100,
//   the fastest QoS1 setting measured on these machines, ~24-30k msg/s).
// - The baseline subscriber is a process of its own (raw_subscriber.cpp), as
//   the bridge is, because all Paho clients of a process share one receive
//   thread: a subscriber next to the publisher would be slowed by the
//   publisher's PUBACKs and vice versa, and its peak RSS could not be told
//   apart from the publisher's.
// - Each mode starts with a warm-up batch that is not timed (connections,
//   SQLite file creation, first allocations), then times N messages from the
//   first publish to the moment the last one is received (raw) or acked by
//   the fake daprd (bridge). steady_clock is CLOCK_MONOTONIC, which is shared
//   by all processes, so the child can report the time of its last message.
// - The baseline runs before and after the bridge modes; ratios use their
//   mean, which evens out some of the drift of a shared, noisy machine.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_common.h"
#include "bridge/bridge_harness.h"
#include "mqtt/paho_mqtt_client.h"
#include "support/test_support.h"
#include "util/logging.h"

namespace bridge::bench {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::ChildProcess;
using testing::FakeDaprd;
using testing::MosquittoBroker;
using testing::PullStream;
using testing::TempDir;
using testing::WaitUntil;

struct Options {
  int messages = 20'000;
  int fsync_messages = 2'000;
  int warmup = 200;
  int window = 100;
  int payload_bytes = 256;
  int timeout_s = 120;
  std::vector<std::string> modes = {"memory", "process", "fsync"};
};

/// A QoS1 publisher that keeps up to `window` publishes awaiting their
/// PUBACK. One per run; Publish() is called from one thread at a time.
class Publisher {
 public:
  static std::unique_ptr<Publisher> Connect(const std::string& url, int window) {
    MqttConnectionSettings settings;
    settings.server_uri = url;
    settings.client_id = "bench-publisher";
    settings.clean_session = true;
    settings.max_in_flight_publishes = window + 100;
    auto client = MakePahoMqttClient(std::move(settings));
    if (!client.ok()) {
      std::cerr << "publisher: " << client.error().message << "\n";
      return nullptr;
    }
    auto publisher = std::unique_ptr<Publisher>(new Publisher(std::move(client).value(), window));
    if (auto status = publisher->client_->Connect(10s); !status.ok()) {
      std::cerr << "publisher: " << status.error().message << "\n";
      return nullptr;
    }
    return publisher;
  }

  ~Publisher() { client_->Disconnect(2s); }

  /// Publishes sequence numbers [first, first + count). Returns the time of
  /// the last PUBACK, or nullopt (with the reason on stderr) on a failed
  /// publish or at the deadline.
  std::optional<Clock::time_point> Publish(const std::string& topic, int first, int count, int payload_bytes,
                                           Clock::time_point deadline) {
    // Shared with the callbacks, which may outlive a timed-out call.
    struct State {
      std::mutex mu;
      std::condition_variable changed;
      int in_flight = 0;
      int acked = 0;
      int failed = 0;
      std::string first_error;
      Clock::time_point last{};
    };
    auto state = std::make_shared<State>();
    for (int i = 0; i < count; ++i) {
      {
        std::unique_lock lock(state->mu);
        if (!state->changed.wait_until(lock, deadline, [&] { return state->in_flight < window_; })) break;
        if (state->failed > 0) break;
        ++state->in_flight;
      }
      client_->Publish(MqttPublish{topic, Payload(first + i, payload_bytes), 1, false}, [state](Status status) {
        std::lock_guard lock(state->mu);
        --state->in_flight;
        ++state->acked;
        if (!status.ok() && state->failed++ == 0) state->first_error = status.error().message;
        state->last = Clock::now();
        state->changed.notify_all();
      });
    }
    std::unique_lock lock(state->mu);
    state->changed.wait_until(lock, deadline, [&] { return state->acked == count || state->failed > 0; });
    if (state->failed > 0) {
      std::cerr << "publisher: " << state->failed << " publishes failed, first: " << state->first_error << "\n";
      return std::nullopt;
    }
    if (state->acked != count) {
      std::cerr << "publisher: only " << state->acked << " of " << count << " PUBACKs before the deadline\n";
      return std::nullopt;
    }
    return state->last;
  }

 private:
  Publisher(std::unique_ptr<MqttClient> client, int window) : client_(std::move(client)), window_(window) {}
  std::unique_ptr<MqttClient> client_;
  int window_;
};

struct ModeResult {
  std::string mode;
  int messages = 0;
  bool completed = false;
  std::string failure;
  double seconds = 0;          // first timed publish -> last message received / acked
  double puback_seconds = 0;   // first timed publish -> publisher's last PUBACK
  int duplicates = 0;
  std::optional<long> peak_rss_kib;

  double rate() const { return completed && seconds > 0 ? messages / seconds : 0; }
  double puback_rate() const { return puback_seconds > 0 ? messages / puback_seconds : 0; }
};

// --- the raw subscriber, in a child process ----------------------------------

ModeResult RunRawBaseline(const std::string& label, const Options& options, const MosquittoBroker& broker,
                          Publisher& publisher, const std::string& work_dir) {
  ModeResult result;
  result.mode = label;
  result.messages = options.messages;
  const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_s);
  const std::string dir = work_dir + "/" + label;
  std::filesystem::create_directories(dir);
  const std::string topic = "bench/" + label;
  auto child = ChildProcess::Start({BENCH_SUBSCRIBER_PATH, broker.url(), topic, std::to_string(options.warmup),
                                    std::to_string(options.messages), dir, std::to_string(options.timeout_s)},
                                   {}, dir + "/subscriber.log");
  auto exists = [&](const char* name) { return std::filesystem::exists(dir + "/" + name); };
  auto fail = [&](std::string why) {
    result.failure = std::move(why);
    if (child) std::cerr << "--- raw subscriber log ---\n" << child->ReadLog() << "\n";
    return result;
  };
  if (!child) return fail("cannot start the raw subscriber");
  if (!WaitUntil([&] { return exists("ready") || !child->Running(); }, 20s) || !exists("ready")) {
    return fail("raw subscriber did not subscribe");
  }
  if (!publisher.Publish(topic, 0, options.warmup, options.payload_bytes, deadline)) return fail("warm-up publish");
  if (!WaitUntil([&] { return exists("warm") || !child->Running(); },
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()), 1ms) ||
      !exists("warm")) {
    return fail("warm-up messages did not arrive");
  }
  const auto start = Clock::now();
  auto last_puback = publisher.Publish(topic, options.warmup, options.messages, options.payload_bytes, deadline);
  if (!last_puback) return fail("publish");
  result.puback_seconds = Seconds(*last_puback - start);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (!child->WaitExit(std::max(left, 1000ms)) || !exists("result")) return fail("timeout: messages missing");
  long long last_ns = 0;
  long hwm = 0;
  std::istringstream(testing::ReadFile(dir + "/result")) >> last_ns >> result.duplicates >> hwm;
  if (last_ns == 0) return fail("raw subscriber did not get every message");
  result.seconds = Seconds(Clock::time_point(std::chrono::nanoseconds(last_ns)) - start);
  if (hwm > 0) result.peak_rss_kib = hwm;
  result.completed = true;
  return result;
}

// --- the bridge -------------------------------------------------------------

ModeResult RunBridge(const std::string& mode, int messages, const Options& options, const MosquittoBroker& broker,
                     Publisher& publisher, const std::string& work_dir) {
  ModeResult result;
  result.mode = mode;
  result.messages = messages;
  const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_s);
  const std::string dir = work_dir + "/" + mode;
  const std::string topic = "bench-" + mode;
  const std::string instance = "bench";
  std::filesystem::create_directories(dir);
  auto bridge = BridgeProcess::Start(dir + "/sockets", dir + "/state", dir + "/bridge.log");
  auto fail = [&](std::string why) {
    result.failure = std::move(why);
    if (bridge) std::cerr << "--- bridge log (" << mode << ") ---\n" << bridge->ReadLog() << "\n";
    return result;
  };
  if (!bridge) return fail("bridge did not start");
  FakeDaprd daprd(bridge->socket_path());
  auto status = daprd.Init(instance, FakeDaprd::Metadata(broker.url(), "bench-bridge-" + mode, {{"durability", mode}}));
  if (!status.ok()) return fail("Init: " + status.error_message());
  auto stream = daprd.Pull(instance, topic);
  if (!stream->WaitActive(20s)) return fail("PullMessages did not become active");

  // Plays an app that acks each message as soon as it is delivered.
  Tally tally(options.warmup + messages);
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    while (!stop.load()) {
      auto message = stream->Next(100ms);
      if (!message) continue;
      stream->Ack(message->id());
      tally.Record(message->data());
    }
  });
  auto finish = [&] {
    stop = true;
    consumer.join();
  };

  if (!publisher.Publish(topic, 0, options.warmup, options.payload_bytes, deadline) ||
      !tally.WaitDistinct(options.warmup, deadline)) {
    finish();
    return fail("warm-up messages did not arrive");
  }
  const auto start = Clock::now();
  auto last_puback = publisher.Publish(topic, options.warmup, messages, options.payload_bytes, deadline);
  const bool all = last_puback && tally.WaitDistinct(options.warmup + messages, deadline);
  result.peak_rss_kib = PeakRssKib(bridge->process().pid());
  finish();
  result.duplicates = tally.duplicates();
  if (last_puback) result.puback_seconds = Seconds(*last_puback - start);
  if (!all) {
    return fail("timeout: " + std::to_string(tally.distinct() - options.warmup) + " of " + std::to_string(messages) +
                " acked");
  }
  result.seconds = Seconds(tally.last() - start);
  result.completed = true;
  stream->Cancel();
  bridge->process().Signal(SIGTERM);
  bridge->process().WaitExit(5s);
  return result;
}

// --- report -----------------------------------------------------------------

std::string Mib(std::optional<long> kib) {
  if (!kib) return "n/a";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(*kib) / 1024.0);
  return text;
}

void PrintTable(const std::vector<ModeResult>& results, double baseline_rate, std::optional<long> baseline_rss) {
  std::printf("\n| mode | N | seconds | msg/s | ratio to raw | publisher PUBACK msg/s | duplicates | peak RSS | RSS vs raw |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& r : results) {
    if (!r.completed) {
      std::printf("| %s | %d | FAILED: %s | | | | | | |\n", r.mode.c_str(), r.messages, r.failure.c_str());
      continue;
    }
    char rss_ratio[32] = "n/a";
    if (r.peak_rss_kib && baseline_rss && *baseline_rss > 0) {
      std::snprintf(rss_ratio, sizeof(rss_ratio), "%.1fx", static_cast<double>(*r.peak_rss_kib) / *baseline_rss);
    }
    std::printf("| %s | %d | %.2f | %.0f | %.2f | %.0f | %d | %s | %s |\n", r.mode.c_str(), r.messages, r.seconds,
                r.rate(), baseline_rate > 0 ? r.rate() / baseline_rate : 0.0, r.puback_rate(), r.duplicates,
                Mib(r.peak_rss_kib).c_str(), rss_ratio);
  }
  std::fflush(stdout);
}

std::string LoadAverage() {
  std::string load = testing::ReadFile("/proc/loadavg");
  return load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1));
}

int BenchMain(const Options& options) {
  std::printf("inbound_bench: N=%d (fsync N=%d), warm-up %d, %d B QoS1 payloads, publish window %d, "
              "bridge defaults otherwise (maxInFlightPerStream 32); %u cores, load %s\n",
              options.messages, options.fsync_messages, options.warmup, options.payload_bytes, options.window,
              std::thread::hardware_concurrency(), LoadAverage().c_str());
  std::fflush(stdout);
  TempDir work;
  auto broker = MosquittoBroker::Start({.persistence = false, .verbose_log = false, .max_queued_messages = 1'000'000});
  if (!broker) return 1;
  auto publisher = Publisher::Connect(broker->url(), options.window);
  if (!publisher) return 1;

  auto progress = [](const ModeResult& r) {
    if (r.completed) {
      std::fprintf(stderr, "  %-10s %6d msgs in %6.2f s = %7.0f msg/s\n", r.mode.c_str(), r.messages, r.seconds,
                   r.rate());
    } else {
      std::fprintf(stderr, "  %-10s FAILED: %s\n", r.mode.c_str(), r.failure.c_str());
    }
  };
  std::vector<ModeResult> results;
  results.push_back(RunRawBaseline("raw-paho", options, *broker, *publisher, work.path()));
  progress(results.back());
  for (const auto& mode : options.modes) {
    const int n = mode == "fsync" ? options.fsync_messages : options.messages;
    results.push_back(RunBridge(mode, n, options, *broker, *publisher, work.path()));
    progress(results.back());
  }
  results.push_back(RunRawBaseline("raw-paho-end", options, *broker, *publisher, work.path()));
  progress(results.back());

  double baseline_sum = 0;
  int baseline_runs = 0;
  std::optional<long> baseline_rss;
  for (const auto& r : results) {
    if (r.mode.rfind("raw-paho", 0) != 0 || !r.completed) continue;
    baseline_sum += r.rate();
    ++baseline_runs;
    if (r.peak_rss_kib) baseline_rss = std::max(baseline_rss.value_or(0), *r.peak_rss_kib);
  }
  const double baseline = baseline_runs > 0 ? baseline_sum / baseline_runs : 0;
  PrintTable(results, baseline, baseline_rss);
  std::printf("\nratio = msg/s over the mean of the raw-paho rows (%.0f msg/s); msg/s is first publish -> last message\n"
              "received (raw) or acked by the fake daprd (bridge). Publisher PUBACK msg/s is the broker's intake\n"
              "(mosquitto acks a publisher on receipt), not the bridge's PUBACK rate. RSS is VmHWM of the\n"
              "subscriber process (raw) or the bridge process.\n",
              baseline);
  std::printf("load after the run: %s\n", LoadAverage().c_str());
  for (const auto& r : results) {
    if (!r.completed) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace bridge::bench

int main(int argc, char** argv) {
  // Our own Paho client logs connects at info; keep the report readable.
  bridge::ConfigureLogging("warn");
  bridge::bench::Options options;
  CLI::App app{"Inbound throughput of the bridge per durability mode, against a raw Paho subscriber."};
  app.add_option("--messages", options.messages, "Timed messages per mode")->check(CLI::PositiveNumber);
  app.add_option("--fsync-messages", options.fsync_messages, "Timed messages for durability=fsync")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "Untimed messages before each mode")->check(CLI::PositiveNumber);
  app.add_option("--window", options.window, "Publishes awaiting their PUBACK at once")->check(CLI::Range(1, 10'000));
  app.add_option("--payload", options.payload_bytes, "Payload size in bytes (at least 10)")->check(CLI::Range(10, 1 << 20));
  app.add_option("--timeout", options.timeout_s, "Seconds allowed per mode")->check(CLI::PositiveNumber);
  app.add_option("--modes", options.modes, "Durability modes to run")
      ->delimiter(',')
      ->check(CLI::IsMember({"memory", "process", "fsync"}));
  CLI11_PARSE(app, argc, argv);
  return bridge::bench::BenchMain(options);
}
