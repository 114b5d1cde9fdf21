package e2e

import (
	"strings"
	"testing"
	"time"
)

// sidecar is one app with its daprd, both attached to a shared bridge.
type sidecar struct {
	app   *app
	daprd *daprd
	res   string
}

func startSidecar(t *testing.T, br *bridge, mq *broker, appID, component, consumerID, subTopic string) *sidecar {
	t.Helper()
	sc := &sidecar{app: newApp(t)}
	sc.res = writeResources(t,
		componentYAML(component, []metaKV{
			{"url", mq.url()},
			{"consumerID", consumerID},
			{"qos", "1"},
			{"cleanSession", "false"},
			{"topicPrefix", "e2e"},
			{"redeliveryDelay", "100ms"},
		}),
		subscriptionYAML(subscription{name: "sub-" + appID, pubsub: component, topic: subTopic, route: "/" + subTopic}))
	sc.daprd = startDaprd(t, daprdOpts{appID: appID, resources: sc.res, socketDir: br.socketDir, appPort: sc.app.port()})
	return sc
}

func (sc *sidecar) got(route, id string) func(delivery) bool {
	return func(d delivery) bool { return d.Route == route && strings.Contains(string(d.Data()), id) }
}

// Two daprd processes (two app ids, two consumerIDs) share one bridge socket.
func TestTwoDaprdsShareOneBridge(t *testing.T) {
	t.Run("different component names", func(t *testing.T) {
		mq := startMosquitto(t)
		br := startBridge(t, "")
		a := startSidecar(t, br, mq, "app-a", "bus-a", "e2e-a", "to-a")
		b := startSidecar(t, br, mq, "app-b", "bus-b", "e2e-b", "to-b")
		br.proc.waitLog(t, `event=subscribed instance="bus-a" filter="e2e/to-a"`, 1, 30*time.Second)
		br.proc.waitLog(t, `event=subscribed instance="bus-b" filter="e2e/to-b"`, 1, 30*time.Second)

		id := uniq("ab")
		a.daprd.mustPublish(t, "bus-a", "to-b", map[string]string{"id": id})
		d := b.app.waitDeliveries(t, 1, 20*time.Second, "A's message at app B", b.got("/to-b", id))[0]
		if d.str("source") != "app-a" || d.str("topic") != "to-b" {
			t.Errorf("app B got source %q topic %q, want app-a, to-b", d.str("source"), d.str("topic"))
		}
		b.daprd.mustPublish(t, "bus-b", "to-a", map[string]string{"id": id})
		d = a.app.waitDeliveries(t, 1, 20*time.Second, "B's message at app A", a.got("/to-a", id))[0]
		if d.str("source") != "app-b" {
			t.Errorf("app A got source %q, want app-b", d.str("source"))
		}
		if n := mq.proc.count("as e2e-a "); n != 1 {
			t.Errorf("broker saw client e2e-a connect %d times, want 1", n)
		}
		if n := mq.proc.count("as e2e-b "); n != 1 {
			t.Errorf("broker saw client e2e-b connect %d times, want 1", n)
		}
	})

	// The same Component (same name, same settings) in two apps: daprd sets
	// consumerID to each app id, and the header (the Component name) is the
	// same. The second Init joins the live instance instead of replacing it,
	// so both apps keep publishing and receiving over one MQTT connection.
	t.Run("same component name", func(t *testing.T) {
		mq := startMosquitto(t)
		br := startBridge(t, "")
		a := startSidecar(t, br, mq, "app-a", "bus", "e2e-a", "to-a")
		br.proc.waitLog(t, `event=subscribed instance="bus" filter="e2e/to-a"`, 1, 30*time.Second)
		b := startSidecar(t, br, mq, "app-b", "bus", "e2e-b", "to-b")
		br.proc.waitLog(t, `event=init_joined instance="bus" consumerID="e2e-b"`, 1, 30*time.Second)
		br.proc.waitLog(t, `event=subscribed instance="bus" filter="e2e/to-b"`, 1, 30*time.Second)
		if n := br.proc.count("event=instance_reinit"); n != 0 {
			t.Errorf("the second Init replaced the instance %d times; it must join it", n)
		}
		if n := mq.proc.count("as e2e-a "); n != 1 {
			t.Errorf("broker saw client e2e-a connect %d times, want 1 (the shared connection)", n)
		}

		id := uniq("same")
		a.daprd.mustPublish(t, "bus", "to-b", map[string]string{"id": id})
		b.app.waitDeliveries(t, 1, 20*time.Second, "A's message at app B", b.got("/to-b", id))
		b.daprd.mustPublish(t, "bus", "to-a", map[string]string{"id": id})
		a.app.waitDeliveries(t, 1, 20*time.Second, "B's message at app A", a.got("/to-a", id))
	})
}
