module dapr-mqtt-bridge/tests/e2e

go 1.22
