// Package conformance runs Dapr's own pub/sub conformance suite
// (github.com/dapr/components-contrib/tests/conformance/pubsub) against the
// bridge, through the pluggable pub/sub gRPC adapter that daprd itself uses
// (github.com/dapr/dapr/pkg/components/pubsub, discovered over the socket
// folder with github.com/dapr/dapr/pkg/components/pluggable). See
// tests/conformance/README.md.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	contribpubsub "github.com/dapr/components-contrib/pubsub"
	confpubsub "github.com/dapr/components-contrib/tests/conformance/pubsub"
	"github.com/dapr/dapr/pkg/components/pluggable"
	daprpubsub "github.com/dapr/dapr/pkg/components/pubsub"
	"github.com/dapr/kit/logger"
)

const (
	// socketName is the bridge's --socket-name; daprd registers the
	// discovered socket as the component type pubsub.<socketName>.
	socketName = "conformance"
	// componentName is the Component's metadata.name in Dapr's own mqtt3
	// conformance config (tests/config/pubsub/mqtt3/*/pubsub.yml); daprd
	// sends it as x-component-instance on every call.
	componentName = "pubsub"

	startDeadline = 20 * time.Second
	stopDeadline  = 10 * time.Second
	logDumpLimit  = 256 << 10
)

// componentProperties is Dapr's mqtt3 conformance configuration
// (components-contrib tests/config/pubsub/mqtt3/{emqx,vernemq}/pubsub.yml),
// with the url pointing at our own mosquitto.
func componentProperties(brokerPort int) map[string]string {
	return map[string]string{
		"url":          fmt.Sprintf("tcp://127.0.0.1:%d", brokerPort),
		"consumerID":   "testConsumer",
		"retain":       "false",
		"qos":          "1",
		"cleanSession": "false",
	}
}

// operations: mqtt3's entry in components-contrib tests/config/pubsub/tests.yml
// has none (mqtt3 has no bulk publish). We add "bulkpublish" because the
// bridge announces BULK_PUBSUB and daprd's adapter implements
// pubsub.BulkPublisher. "bulksubscribe" cannot be run: daprd's pluggable
// adapter does not implement pubsub.BulkSubscriber (daprd wraps it in its
// generic bulk-subscribe emulation instead), so the suite would t.Fatalf.
var operations = []string{"bulkpublish"}

func TestPubsubConformance(t *testing.T) {
	bridgeBin := requireExecutable(t, "BRIDGE_BIN", "")
	mosquittoBin := requireExecutable(t, "MOSQUITTO_BIN", "mosquitto")

	// Short, private paths: a Unix socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "bridge-conf-")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("CONFORMANCE_KEEP_TMP") != "" {
			t.Logf("keeping %s (logs, configs) for inspection", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})

	brokerPort := startMosquitto(t, mosquittoBin, dir)
	socketsDir := startBridge(t, bridgeBin, dir)

	// What daprd does at start-up (pkg/runtime/runtime.go): discover the
	// pluggable components in DAPR_COMPONENTS_SOCKETS_FOLDER through gRPC
	// reflection; that registers pubsub.<socket name> in the default pub/sub
	// registry with the socket dialer (x-component-instance interceptors).
	t.Setenv(pluggable.SocketFolderEnvVar, socketsDir)
	discoverCtx, cancel := context.WithTimeout(t.Context(), startDeadline)
	err = pluggable.Discover(discoverCtx)
	cancel()
	if err != nil {
		t.Fatalf("pluggable.Discover(%s): %v", socketsDir, err)
	}
	registry := daprpubsub.DefaultRegistry
	registry.Logger = logger.NewLogger("dapr.runtime")
	ps, err := registry.Create("pubsub."+socketName, "v1", componentName+" (pubsub."+socketName+"/v1)")
	if err != nil {
		t.Fatalf("daprd's registry did not offer the discovered bridge: %v", err)
	}
	adapter := &namedPubSub{PubSub: ps, name: componentName}

	cfg, err := confpubsub.NewTestConfig("mqtt-bridge", operations, map[string]interface{}{})
	if err != nil {
		t.Fatalf("NewTestConfig: %v", err)
	}
	confpubsub.ConformanceTests(t, componentProperties(brokerPort), adapter, cfg)

	// The bulkPublish step is run because the bridge announces BULK_PUBSUB
	// (features are fetched by the adapter right after Init and cached).
	if !slices.Contains(ps.Features(), contribpubsub.FeatureBulkPublish) {
		t.Errorf("features %v lack %q, yet the suite ran bulkPublish", ps.Features(), contribpubsub.FeatureBulkPublish)
	}
}

// namedPubSub gives Init the Component name, as daprd's runtime does
// (pubsub.Metadata.Base.Name = the Component's metadata.name): the adapter
// dials with it, and it becomes the x-component-instance header. The suite
// itself passes only the properties. Everything else is the adapter's.
type namedPubSub struct {
	contribpubsub.PubSub
	name string
}

func (n *namedPubSub) Init(ctx context.Context, md contribpubsub.Metadata) error {
	md.Name = n.name
	return n.PubSub.Init(ctx, md)
}

func (n *namedPubSub) BulkPublish(ctx context.Context, req *contribpubsub.BulkPublishRequest) (contribpubsub.BulkPublishResponse, error) {
	bp, ok := n.PubSub.(contribpubsub.BulkPublisher)
	if !ok {
		return contribpubsub.BulkPublishResponse{}, errors.New("daprd's pluggable adapter does not implement BulkPublisher")
	}
	return bp.BulkPublish(ctx, req)
}

var _ contribpubsub.BulkPublisher = (*namedPubSub)(nil)

// requireExecutable resolves an executable from an environment variable (or
// PATH / /usr/sbin for fallback) and fails the test if there is none.
func requireExecutable(t *testing.T, envVar, fallback string) string {
	t.Helper()
	path := os.Getenv(envVar)
	if path == "" && fallback != "" {
		if p, err := exec.LookPath(fallback); err == nil {
			path = p
		} else if p := filepath.Join("/usr/sbin", fallback); isExecutable(p) {
			path = p
		}
	}
	if path == "" {
		t.Fatalf("%s is not set (and no fallback found): the conformance test needs it", envVar)
	}
	if !isExecutable(path) {
		t.Fatalf("%s=%q is not an executable file", envVar, path)
	}
	return path
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// process is a child process whose combined output goes to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

func startProcess(t *testing.T, name, logPath string, env []string, bin string, args ...string) *process {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("%s log: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		t.Fatalf("start %s (%s): %v", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			dumpLog(t, p.name, p.logPath)
		}
	})
	return p
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits with a deadline, then SIGKILL.
func (p *process) stop(t *testing.T) {
	if !p.running() {
		t.Logf("%s had already exited: %v", p.name, p.waitErr)
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.waitErr != nil {
			t.Logf("%s exited after SIGTERM: %v", p.name, p.waitErr)
		}
		return
	case <-time.After(stopDeadline):
	}
	t.Logf("%s did not exit within %v of SIGTERM; killing it", p.name, stopDeadline)
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(stopDeadline):
		t.Logf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

func dumpLog(t *testing.T, name, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s log %s: %v", name, path, err)
		return
	}
	if len(data) > logDumpLimit {
		cut := len(data) - logDumpLimit
		if i := bytes.IndexByte(data[cut:], '\n'); i >= 0 {
			cut += i + 1
		}
		t.Logf("----- %s log (%s), last %d of %d bytes -----", name, path, len(data)-cut, len(data))
		data = data[cut:]
	} else {
		t.Logf("----- %s log (%s) -----", name, path)
	}
	t.Logf("\n%s\n----- end of %s log -----", data, name)
}

// waitFor polls ready until it succeeds, the process exits, or the deadline.
func waitFor(t *testing.T, p *process, what string, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(startDeadline)
	var lastErr error
	for time.Now().Before(deadline) {
		if lastErr = ready(); lastErr == nil {
			return
		}
		if !p.running() {
			dumpLog(t, p.name, p.logPath)
			t.Fatalf("%s exited (%v) before %s", p.name, p.waitErr, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dumpLog(t, p.name, p.logPath)
	t.Fatalf("%s: no %s within %v: %v", p.name, what, startDeadline, lastErr)
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMosquitto starts a private mosquitto on a free loopback port and
// returns the port once it accepts connections.
func startMosquitto(t *testing.T, bin, dir string) int {
	t.Helper()
	const attempts = 3 // the free port may be taken between probe and bind
	for attempt := 1; attempt <= attempts; attempt++ {
		port := freeLoopbackPort(t)
		conf := filepath.Join(dir, "mosquitto-"+strconv.Itoa(attempt)+".conf")
		content := strings.Join([]string{
			"listener " + strconv.Itoa(port) + " 127.0.0.1",
			"allow_anonymous true",
			"max_queued_messages 100000",
			"persistence false",
			"log_dest stderr",
			"log_type all",
			"",
		}, "\n")
		if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
			t.Fatalf("mosquitto conf: %v", err)
		}
		p := startProcess(t, "mosquitto", filepath.Join(dir, "mosquitto-"+strconv.Itoa(attempt)+".log"), nil, bin, "-c", conf)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		deadline := time.Now().Add(startDeadline)
		for time.Now().Before(deadline) && p.running() {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				_ = c.Close()
				t.Logf("mosquitto (%s) listening on %s", bin, addr)
				return port
			}
			time.Sleep(50 * time.Millisecond)
		}
		if p.running() {
			dumpLog(t, p.name, p.logPath)
			t.Fatalf("mosquitto did not accept on %s within %v", addr, startDeadline)
		}
		t.Logf("mosquitto exited (%v) on attempt %d (port %d); retrying", p.waitErr, attempt, port)
		dumpLog(t, p.name, p.logPath)
	}
	t.Fatalf("mosquitto did not start after %d attempts", attempts)
	return 0
}

// startBridge starts the bridge with its socket in <dir>/sockets and returns
// that folder once the socket accepts connections.
func startBridge(t *testing.T, bin, dir string) string {
	t.Helper()
	socketsDir := filepath.Join(dir, "sockets")
	stateDir := filepath.Join(dir, "state")
	for _, d := range []string{socketsDir, stateDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("mkdir %s: %v", d, err)
		}
	}
	logLevel := os.Getenv("BRIDGE_LOG_LEVEL")
	if logLevel == "" {
		logLevel = "debug"
	}
	p := startProcess(t, "bridge", filepath.Join(dir, "bridge.log"),
		[]string{pluggable.SocketFolderEnvVar + "=" + socketsDir},
		bin, "--socket-name", socketName, "--state-dir", stateDir, "--log-level", logLevel)
	socket := filepath.Join(socketsDir, socketName+".sock")
	waitFor(t, p, "socket accepting at "+socket, func() error {
		c, err := net.DialTimeout("unix", socket, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	t.Logf("bridge (%s) serving %s", bin, socket)
	return socketsDir
}
