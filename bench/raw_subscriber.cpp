// The baseline for inbound_bench: a plain Paho subscriber (the project's
// MakePahoMqttClient) whose handler only counts. A program of its own, linked
// with --as-needed, so that its peak RSS is that of a small MQTT client and
// not of a binary that also carries gRPC.
//
//   inbound_bench_subscriber URL TOPIC WARMUP N OUT_DIR TIMEOUT_S
//
// Touches OUT_DIR/ready after the SUBACK and OUT_DIR/warm after WARMUP
// distinct messages; writes OUT_DIR/result once WARMUP+N distinct messages are
// in: "<steady_clock ns of the last> <duplicates> <VmHWM KiB>" (0 for the time
// when some are missing at the deadline). steady_clock is CLOCK_MONOTONIC,
// which every process shares, so the parent can compare it with its own.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <string>

#include "bench_common.h"
#include "mqtt/paho_mqtt_client.h"
#include "util/logging.h"

int main(int argc, char** argv) {
  using namespace bridge;
  using namespace bridge::bench;
  using namespace std::chrono_literals;
  if (argc != 7) {
    std::cerr << "usage: inbound_bench_subscriber URL TOPIC WARMUP N OUT_DIR TIMEOUT_S\n";
    return 2;
  }
  ConfigureLogging("warn");
  const std::string url = argv[1];
  const std::string topic = argv[2];
  const int warmup = std::stoi(argv[3]);
  const int total = warmup + std::stoi(argv[4]);
  const std::string out = argv[5];
  const auto deadline = Clock::now() + std::chrono::seconds(std::stoi(argv[6]));
  // Written whole, then renamed: the parent polls for the name.
  auto publish_file = [&](const std::string& name, const std::string& text) {
    { std::ofstream(out + "/" + name + ".tmp") << text; }
    std::filesystem::rename(out + "/" + name + ".tmp", out + "/" + name);
  };

  MqttConnectionSettings settings;
  settings.server_uri = url;
  settings.client_id = "bench-raw-subscriber";
  settings.clean_session = true;
  auto client = MakePahoMqttClient(std::move(settings));
  if (!client.ok()) {
    std::cerr << "raw subscriber: " << client.error().message << "\n";
    return 1;
  }
  Tally tally(total);
  // Only counting: what the bridge's handler adds (store, hand over to a
  // stream) is what the benchmark measures.
  client.value()->SetMessageHandler([&tally](MqttMessage&& message) { tally.Record(message.payload); });
  if (auto status = client.value()->Connect(10s); !status.ok()) {
    std::cerr << "raw subscriber: " << status.error().message << "\n";
    return 1;
  }
  auto subscribed = std::make_shared<std::promise<Status>>();
  auto suback = subscribed->get_future();
  client.value()->Subscribe(topic, 1, [subscribed](Status status) { subscribed->set_value(std::move(status)); });
  if (suback.wait_for(10s) != std::future_status::ready || !suback.get().ok()) {
    std::cerr << "raw subscriber: no SUBACK\n";
    return 1;
  }
  publish_file("ready", "");
  if (!tally.WaitDistinct(warmup, deadline)) return 1;
  publish_file("warm", "");
  const bool all = tally.WaitDistinct(total, deadline);
  const auto last_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tally.last().time_since_epoch()).count();
  publish_file("result", std::to_string(all ? last_ns : 0) + " " + std::to_string(tally.duplicates()) + " " +
                             std::to_string(PeakRssKib(getpid()).value_or(0)) + "\n");
  client.value()->Disconnect(2s);
  return all ? 0 : 1;
}
