package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// simpleStack starts mosquitto, the bridge, the app and one daprd with the
// Component "bus" (persistent session, prefix e2e, redeliveryDelay 100ms)
// and one subscription per topic (route /<topic>).
func simpleStack(t *testing.T, appID, consumerID string, topics ...string) *stack {
	t.Helper()
	s := &stack{broker: startMosquitto(t)}
	s.bridge = startBridge(t, "")
	s.app = newApp(t)
	docs := []string{componentYAML("bus", []metaKV{
		{"url", s.broker.url()},
		{"consumerID", consumerID},
		{"qos", "1"},
		{"cleanSession", "false"},
		{"topicPrefix", "e2e"},
		{"redeliveryDelay", "100ms"},
		{"maxRedeliveryDelay", "1s"},
	})}
	for _, topic := range topics {
		docs = append(docs, subscriptionYAML(subscription{name: strings.ReplaceAll(topic, "/", "-"), pubsub: "bus", topic: topic, route: "/" + topic}))
	}
	s.res = writeResources(t, docs...)
	s.daprd = s.startDaprd(t, appID)
	for _, topic := range topics {
		s.bridge.proc.waitLog(t, fmt.Sprintf(`event=subscribed instance="bus" filter="e2e/%s"`, topic), 1, 30*time.Second)
	}
	return s
}

func (s *stack) startDaprd(t *testing.T, appID string) *daprd {
	t.Helper()
	return startDaprd(t, daprdOpts{appID: appID, resources: s.res, socketDir: s.bridge.socketDir, appPort: s.app.port()})
}

// daprd is stopped (SIGTERM twice, then SIGKILL) and a new daprd started on
// the same resources while a publisher sends 300 QoS1 messages; the bridge stays up. Every
// message must reach the app; duplicates are counted and reported.
func TestDaprdRestartWhileMessagesFlow(t *testing.T) {
	const total = 300
	s := simpleStack(t, "flow", "e2e-flow", "flow")
	pullsBefore := s.bridge.proc.count(`event=pull_started instance="bus" topic="flow"`)
	// The app takes 15 ms per message (simulated work, not synchronisation),
	// so that a message is usually at the app, and others wait in the
	// stream's window, when daprd gets SIGTERM.
	s.app.handle("/flow", func(delivery) answer {
		time.Sleep(15 * time.Millisecond)
		return ok200
	})

	// The publisher: one mosquitto_pub -q 1 per message, at most one every
	// 20 ms so that the flow spans both restarts; each exits 0 only after the
	// broker's PUBACK, so a nil error means the broker has the message.
	var pubErr error
	var pubMu sync.Mutex
	published := 0
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		pace := time.NewTicker(20 * time.Millisecond)
		defer pace.Stop()
		for i := 0; i < total; i++ {
			<-pace.C
			err := mqttPublish(s.broker.port, "e2e/flow", fmt.Sprintf("msg-%04d", i))
			pubMu.Lock()
			if err != nil {
				pubErr = err
				pubMu.Unlock()
				return
			}
			published++
			pubMu.Unlock()
		}
	}()
	t.Cleanup(func() { <-pubDone })

	unique := func() map[string]int {
		seen := map[string]int{}
		for _, d := range s.app.deliveries(func(d delivery) bool { return d.Route == "/flow" }) {
			seen[string(d.Data())]++
		}
		return seen
	}
	// Three restarts, each once the app has seen a given number of messages:
	// two graceful ones (SIGTERM) and a crash (SIGKILL), after which the
	// message that was at the app is never acked and comes again.
	for i, threshold := range []int{60, 150, 220} {
		waitUntil(t, 60*time.Second, fmt.Sprintf("the app to get %d messages before restart %d", threshold, i+1),
			func() bool { return len(unique()) >= threshold })
		atStop := len(unique())
		pubMu.Lock()
		publishedAtStop := published
		pubMu.Unlock()
		if i < 2 {
			s.daprd.proc.stopOK(t, 20*time.Second)
		} else {
			s.daprd.proc.kill(t)
		}
		s.daprd = s.startDaprd(t, "flow")
		s.bridge.proc.waitLog(t, `event=pull_started instance="bus" topic="flow"`, pullsBefore+i+1, 30*time.Second)
		pubMu.Lock()
		publishedAtStart := published
		pubMu.Unlock()
		t.Logf("restart %d (%s): the app had %d unique and %d were published when daprd was stopped; %d were published when the new stream opened",
			i+1, map[bool]string{true: "SIGTERM", false: "SIGKILL"}[i < 2], atStop, publishedAtStop, publishedAtStart)
	}

	select {
	case <-pubDone:
	case <-time.After(120 * time.Second):
		t.Fatalf("publisher did not finish within 120 s")
	}
	if pubErr != nil {
		t.Fatalf("publisher: %v (after %d messages)", pubErr, published)
	}
	var seen map[string]int
	if err := pollUntil(60*time.Second, func() bool { seen = unique(); return len(seen) >= total }); err != nil {
		var missing []string
		for i := 0; i < total; i++ {
			if id := fmt.Sprintf("msg-%04d", i); seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		t.Fatalf("LOST: %d of %d messages never reached the app within 60 s: %v", len(missing), total, missing)
	}
	// Give late redeliveries a bounded window (1 s) to show up before
	// counting duplicates; duplicates are reported, not failed.
	flow := func(d delivery) bool { return d.Route == "/flow" }
	before := len(s.app.deliveries(flow))
	_ = pollUntil(time.Second, func() bool { return len(s.app.deliveries(flow)) > before })
	deliveries := len(s.app.deliveries(flow))
	seen = unique()
	dups := 0
	var dupIDs []string
	for id, n := range seen {
		if n > 1 {
			dups += n - 1
			dupIDs = append(dupIDs, fmt.Sprintf("%s×%d", id, n))
		}
	}
	t.Logf("RESULT: %d/%d unique messages delivered, %d deliveries in all, %d duplicates %v", len(seen), total, deliveries, dups, dupIDs)
}

// A bridge restarted under a running daprd: daprd discovers pluggable
// components only at start-up and its streams die with the old bridge, so
// the subscription stays dead and publishes fail (the new bridge has no
// instance "bus" because nobody called Init) until daprd is restarted too.
func TestBridgeRestartUnderRunningDaprd(t *testing.T) {
	s := simpleStack(t, "brr", "e2e-brr", "brr/in")
	s.daprd.mustPublish(t, "bus", "brr/in", map[string]string{"id": "before"})
	s.app.waitDeliveries(t, 1, 20*time.Second, "the message before the bridge restart", func(d delivery) bool {
		return d.Route == "/brr/in" && strings.Contains(string(d.Data()), "before")
	})

	s.bridge.proc.stopOK(t, 10*time.Second)
	old := s.bridge
	s.bridge = startBridge(t, old.socketDir)

	// daprd itself stays healthy.
	code, _ := getStatus(s.daprd.url("/v1.0/healthz"))
	t.Logf("after the bridge restart: daprd /v1.0/healthz = %d", code)

	// Publishing through daprd now fails.
	code, body := s.daprd.publish(t, "bus", "brr/in", map[string]string{"id": "during"})
	t.Logf("after the bridge restart: publish through daprd = HTTP %d %s", code, body)
	if code == http.StatusNoContent {
		t.Errorf("publish through daprd after the bridge restart succeeded; expected a failure")
	}

	// A message published straight to MQTT does not reach the app.
	s.broker.pub(t, "e2e/brr/in", "gap")
	waitNoMoreFn(t, s.app, "/brr/in after the bridge restart", func(d delivery) bool { return d.Route == "/brr/in" }, 1, 2*time.Second)

	// Restart daprd too: everything works again.
	oldDaprd := s.daprd.proc
	s.daprd.proc.stopOK(t, 20*time.Second)
	s.daprd = s.startDaprd(t, "brr")
	s.bridge.proc.waitLog(t, `event=pull_started instance="bus" topic="brr/in"`, 1, 30*time.Second)
	s.daprd.mustPublish(t, "bus", "brr/in", map[string]string{"id": "after"})
	s.app.waitDeliveries(t, 1, 20*time.Second, "the message after restarting daprd", func(d delivery) bool {
		return d.Route == "/brr/in" && strings.Contains(string(d.Data()), "after")
	})
	// The message published straight to MQTT while no daprd stream existed
	// was queued by the broker for the persistent session (cleanSession
	// false, same consumerID) and reaches the app once daprd is back.
	s.app.waitDeliveries(t, 1, 20*time.Second, "the MQTT message from the gap", func(d delivery) bool {
		return d.Route == "/brr/in" && string(d.Data()) == "gap"
	})
	got := s.app.deliveries(func(d delivery) bool { return d.Route == "/brr/in" })
	t.Logf("deliveries: %s", summarize(got))
	t.Logf("what the first daprd logged about the dead streams:\n%s", grepLines(oldDaprd.log.String(), "pubsub message", "bus"))
}

func getStatus(url string) (int, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// grepLines returns the lines of log that contain every one of words.
func grepLines(log string, words ...string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
