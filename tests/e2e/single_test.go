package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// stack is mosquitto + bridge + one daprd + the app.
type stack struct {
	broker *broker
	bridge *bridge
	app    *app
	daprd  *daprd
	res    string
}

// The single-daprd scenarios share one stack (one daprd start instead of
// eight); each subtest uses its own topic, so they are independent.
func TestSingleDaprd(t *testing.T) {
	s := &stack{broker: startMosquitto(t)}
	s.bridge = startBridge(t, "")
	s.app = newApp(t)
	subs := []subscription{
		{name: "orders", topic: "orders", route: "/orders"},
		{name: "raw", topic: "raw/in", route: "/raw", meta: map[string]string{"rawPayload": "true"}},
		{name: "plain", topic: "plain/in", route: "/plain"},
		{name: "retry", topic: "retry", route: "/retry"},
		{name: "fail500", topic: "fail500", route: "/fail500"},
		{name: "drop", topic: "drop", route: "/drop"},
		{name: "sensors", topic: "sensors/+/temp", route: "/sensors", meta: map[string]string{"rawPayload": "true"}},
	}
	docs := []string{componentYAML("bus", []metaKV{
		{"url", s.broker.url()},
		{"consumerID", "e2e-single"},
		{"qos", "1"},
		{"cleanSession", "false"},
		{"topicPrefix", "e2e"},
		{"redeliveryDelay", "100ms"},
		{"maxRedeliveryDelay", "400ms"},
		{"connectTimeout", "3s"},
	})}
	for _, sub := range subs {
		sub.pubsub = "bus"
		docs = append(docs, subscriptionYAML(sub))
	}
	s.res = writeResources(t, docs...)
	s.daprd = startDaprd(t, daprdOpts{appID: "single", resources: s.res, socketDir: s.bridge.socketDir, appPort: s.app.port()})
	// Streams are open and the broker has granted every filter.
	for _, sub := range subs {
		s.bridge.proc.waitLog(t, fmt.Sprintf(`event=subscribed instance="bus" filter="e2e/%s"`, sub.topic), 1, 30*time.Second)
	}

	t.Run("metadata lists the component and its features", func(t *testing.T) {
		m := s.daprd.metadata(t)
		found := false
		for _, c := range m.Components {
			if c.Name != "bus" {
				continue
			}
			found = true
			if c.Type != componentType || c.Version != "v1" {
				t.Errorf("component bus: type %q version %q, want %q v1", c.Type, c.Version, componentType)
			}
			for _, f := range []string{"SUBSCRIBE_WILDCARDS", "BULK_SUBSCRIBE_IMMEDIATE", "BULK_PUBSUB"} {
				if !slices.Contains(c.Capabilities, f) {
					t.Errorf("component bus: capabilities %v lack %s", c.Capabilities, f)
				}
			}
			t.Logf("component bus: type %s, capabilities %v", c.Type, c.Capabilities)
		}
		if !found {
			t.Fatalf("GET /v1.0/metadata does not list component bus: %+v", m.Components)
		}
		var topics []string
		for _, sub := range m.Subscriptions {
			if sub.PubsubName == "bus" {
				topics = append(topics, sub.Topic)
			}
		}
		for _, sub := range subs {
			if !slices.Contains(topics, sub.topic) {
				t.Errorf("metadata subscriptions %v lack %q", topics, sub.topic)
			}
		}
	})

	t.Run("publish through daprd reaches the app and the mapped MQTT topic", func(t *testing.T) {
		id := uniq("order")
		// "#": the first message on the broker must be ours, on the mapped topic.
		watcher := s.broker.sub(t, "#", 1, 30)
		s.daprd.mustPublish(t, "bus", "orders", map[string]string{"order": id})

		got := s.app.waitDeliveries(t, 1, 20*time.Second, "order "+id, func(d delivery) bool {
			return d.Route == "/orders" && strings.Contains(string(d.Data()), id)
		})[0]
		if got.CE == nil {
			t.Fatalf("app got a body that is not a CloudEvent: %s", got.Body)
		}
		if got.str("topic") != "orders" || got.str("pubsubname") != "bus" || got.str("specversion") != "1.0" {
			t.Errorf("CloudEvent topic %q pubsubname %q specversion %q, want orders, bus, 1.0", got.str("topic"), got.str("pubsubname"), got.str("specversion"))
		}
		if data, _ := got.CE["data"].(map[string]any); data["order"] != id {
			t.Errorf("CloudEvent data %v, want {order: %s}", got.CE["data"], id)
		}
		if h := got.Header.Get("mqtt-topic"); h != "e2e/orders" {
			t.Errorf("header mqtt-topic %q, want e2e/orders", h)
		}
		if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/cloudevents+json") {
			t.Errorf("Content-Type %q, want application/cloudevents+json", ct)
		}

		lines := watcher.lines(t, 30*time.Second)
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "e2e/orders ") {
			t.Fatalf("mosquitto_sub on # saw %q, want one message on e2e/orders", lines)
		}
		var ce map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[0], "e2e/orders ")), &ce); err != nil {
			t.Fatalf("MQTT payload is not JSON: %v: %s", err, lines[0])
		}
		if data, _ := ce["data"].(map[string]any); data["order"] != id || ce["topic"] != "orders" {
			t.Errorf("MQTT payload %v, want a CloudEvent with topic orders and data.order %s", ce, id)
		}
	})

	t.Run("plain mosquitto_pub payload reaches a rawPayload subscription", func(t *testing.T) {
		payload := uniq("raw bytes")
		s.broker.pub(t, "e2e/raw/in", payload)
		got := s.app.waitDeliveries(t, 1, 20*time.Second, "raw payload", func(d delivery) bool {
			return d.Route == "/raw" && string(d.Data()) == payload
		})[0]
		if got.CE == nil || got.str("topic") != "raw/in" || got.str("pubsubname") != "bus" {
			t.Errorf("rawPayload CloudEvent: %s", got.Body)
		}
		if ct := got.str("datacontenttype"); ct != "application/octet-stream" {
			t.Errorf("datacontenttype %q, want application/octet-stream", ct)
		}
		t.Logf("rawPayload delivery: %s", got.Body)
	})

	t.Run("plain payload on a normal subscription arrives in binary mode", func(t *testing.T) {
		payload := uniq("plain text, not JSON")
		s.broker.pub(t, "e2e/plain/in", payload)
		got := s.app.waitDeliveries(t, 1, 20*time.Second, "plain payload", func(d delivery) bool {
			return d.Route == "/plain" && strings.Contains(string(d.Body), payload)
		})[0]
		// Observed with daprd 1.18.2: the HTTP body is the MQTT payload itself
		// (not a JSON CloudEvent) and the ce_* metadata become headers; the
		// request's Content-Type is still application/cloudevents+json.
		if string(got.Body) != payload {
			t.Errorf("body %q, want the raw payload %q", got.Body, payload)
		}
		want := map[string]string{
			"ce_source": "dapr-mqtt-bridge", "ce_type": "com.dapr.mqtt.message",
			"ce_subject": "e2e/plain/in", "ce_specversion": "1.0", "mqtt-topic": "e2e/plain/in",
			"retained": "false", "mqtt-qos": "1", "pubsubName": "bus",
		}
		for k, v := range want {
			if h := got.Header.Get(k); h != v {
				t.Errorf("header %s = %q, want %q", k, h, v)
			}
		}
		if got.Header.Get("ce_id") == "" {
			t.Errorf("no ce_id header")
		}
		t.Logf("binary-mode delivery: Content-Type %q, body %q, headers %v", got.Header.Get("Content-Type"), got.Body, headerSummary(got.Header))
		waitNoMore(t, s.app, "/plain", 1, 500*time.Millisecond)
	})

	t.Run("RETRY and HTTP 500 are redelivered, DROP is not", func(t *testing.T) {
		s.app.handle("/retry", func(d delivery) answer {
			if d.Attempt == 1 {
				return answer{200, `{"status":"RETRY"}`}
			}
			return ok200
		})
		s.app.handle("/fail500", func(d delivery) answer {
			if d.Attempt <= 2 {
				return answer{http.StatusInternalServerError, "boom"}
			}
			return ok200
		})
		s.app.handle("/drop", func(d delivery) answer { return answer{200, `{"status":"DROP"}`} })
		id := uniq("x")
		s.daprd.mustPublish(t, "bus", "retry", map[string]string{"id": id})
		s.daprd.mustPublish(t, "bus", "fail500", map[string]string{"id": id})
		s.daprd.mustPublish(t, "bus", "drop", map[string]string{"id": id})
		mine := func(route string) func(delivery) bool {
			return func(d delivery) bool { return d.Route == route && strings.Contains(string(d.Data()), id) }
		}
		retries := s.app.waitDeliveries(t, 2, 20*time.Second, "RETRY then SUCCESS", mine("/retry"))
		gap := retries[1].At.Sub(retries[0].At)
		t.Logf("RETRY: redelivered after %v", gap.Round(time.Millisecond))
		if gap < 80*time.Millisecond {
			t.Errorf("RETRY redelivered after %v, before redeliveryDelay 100ms", gap)
		}
		fails := s.app.waitDeliveries(t, 3, 20*time.Second, "500, 500, then 200", mine("/fail500"))
		t.Logf("HTTP 500: redelivered after %v and %v (backoff doubles)", fails[1].At.Sub(fails[0].At).Round(time.Millisecond), fails[2].At.Sub(fails[1].At).Round(time.Millisecond))
		if g := fails[2].At.Sub(fails[1].At); g < 160*time.Millisecond {
			t.Errorf("second redelivery after %v, want >= 200ms (doubled backoff)", g)
		}
		s.app.waitDeliveries(t, 1, 20*time.Second, "DROP", mine("/drop"))
		// Successful messages must not come again either; DROP must not come back.
		waitNoMoreFn(t, s.app, "DROP", mine("/drop"), 1, 2*time.Second)
		if n := len(s.app.deliveries(mine("/retry"))); n != 2 {
			t.Errorf("/retry got %d deliveries, want 2", n)
		}
		if n := len(s.app.deliveries(mine("/fail500"))); n != 3 {
			t.Errorf("/fail500 got %d deliveries, want 3", n)
		}
	})

	t.Run("wildcard subscription delivers the concrete topic", func(t *testing.T) {
		id := uniq("w")
		s.broker.pub(t, "e2e/sensors/room1/temp", "21.5 "+id)
		s.daprd.mustPublish(t, "bus", "sensors/room2/temp", map[string]string{"id": id})
		s.broker.pub(t, "e2e/sensors/room3/humidity", "not matched "+id)
		got := s.app.waitDeliveries(t, 2, 20*time.Second, "two sensor readings", func(d delivery) bool {
			return d.Route == "/sensors" && strings.Contains(string(d.Data()), id)
		})
		byTopic := map[string]delivery{}
		for _, d := range got {
			byTopic[d.str("topic")] = d
		}
		if d, ok := byTopic["sensors/room1/temp"]; !ok || string(d.Data()) != "21.5 "+id || d.Header.Get("mqtt-topic") != "e2e/sensors/room1/temp" {
			t.Errorf("no delivery with topic sensors/room1/temp and mqtt-topic e2e/sensors/room1/temp: %s", summarize(got))
		}
		d, ok := byTopic["sensors/room2/temp"]
		if !ok {
			t.Fatalf("no delivery with topic sensors/room2/temp: %s", summarize(got))
		}
		var inner map[string]any
		if err := json.Unmarshal(d.Data(), &inner); err != nil || inner["topic"] != "sensors/room2/temp" {
			t.Errorf("the Dapr-published event inside data_base64: %s (%v)", d.Data(), err)
		}
		waitNoMoreFn(t, s.app, "sensor readings", func(d delivery) bool {
			return d.Route == "/sensors" && strings.Contains(string(d.Data()), id)
		}, 2, 300*time.Millisecond)
	})
}

// waitNoMore checks, for a bounded window, that a route gets no more than n deliveries.
func waitNoMore(t testing.TB, a *app, route string, n int, window time.Duration) {
	t.Helper()
	waitNoMoreFn(t, a, route, func(d delivery) bool { return d.Route == route }, n, window)
}

func waitNoMoreFn(t testing.TB, a *app, what string, pred func(delivery) bool, n int, window time.Duration) {
	t.Helper()
	if pollUntil(window, func() bool { return len(a.deliveries(pred)) > n }) == nil {
		got := a.deliveries(pred)
		t.Errorf("%s: %d deliveries within %v, want %d: %s", what, len(got), window, n, summarize(got))
	}
}

func headerSummary(h http.Header) string {
	var parts []string
	for k, v := range h {
		parts = append(parts, k+"="+strings.Join(v, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
