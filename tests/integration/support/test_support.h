#pragma once

// Shared fixtures for integration tests (namespace bridge::testing).
#include "child_process.h"     // ChildProcess, ReadFile
#include "mosquitto_broker.h"  // MosquittoBroker, MosquittoOptions
#include "temp_dir.h"          // TempDir
#include "test_mqtt_peer.h"    // TestMqttPeer, StatusWaiter
#include "wait.h"              // FreeLoopbackPort, WaitUntil, LoopbackPortAccepts
