// Harness for the end-to-end tests: real mosquitto, the real bridge, our real
// daprd (tests/daprd) and a small HTTP app inside the test process. Only
// 127.0.0.1 is used. Every wait has a deadline; no test sleeps to synchronise.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binaries, from the environment (set by tests/e2e/e2e.cmake). A missing
// binary fails the whole run loudly in TestMain; nothing is skipped.
var bins struct {
	bridge, daprd, mosquitto, mosquittoPub, mosquittoSub string
}

func TestMain(m *testing.M) {
	var problems []string
	resolve := func(env, fallback string) string {
		p := os.Getenv(env)
		if p == "" {
			if lp, err := exec.LookPath(fallback); err == nil {
				p = lp
			} else {
				problems = append(problems, fmt.Sprintf("%s is not set and %q is not on PATH", env, fallback))
				return ""
			}
		}
		st, err := os.Stat(p)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s=%s: %v", env, p, err))
		case st.IsDir() || st.Mode()&0o111 == 0:
			problems = append(problems, fmt.Sprintf("%s=%s: not an executable file", env, p))
		}
		return p
	}
	// Manual runs from tests/e2e: default to the repository's build folders.
	for env, path := range map[string]string{"BRIDGE_BIN": "../../build/dapr-mqtt-bridge", "DAPRD_BIN": "../../build-daprd/daprd"} {
		if os.Getenv(env) == "" {
			if abs, err := filepath.Abs(path); err == nil {
				os.Setenv(env, abs)
			}
		}
	}
	bins.bridge = resolve("BRIDGE_BIN", "dapr-mqtt-bridge")
	bins.daprd = resolve("DAPRD_BIN", "daprd")
	bins.mosquitto = resolve("MOSQUITTO_BIN", "mosquitto")
	bins.mosquittoPub = resolve("MOSQUITTO_PUB", "mosquitto_pub")
	bins.mosquittoSub = resolve("MOSQUITTO_SUB", "mosquitto_sub")
	if len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "e2e: FATAL: required binaries are missing (build them first; see tests/e2e/README.md):")
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "e2e:   "+p)
		}
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// ---------------------------------------------------------------- waiting

// waitUntil polls cond until it is true or the deadline passes. The poll
// interval grows from 5 ms to 100 ms; the number of iterations is bounded by
// the deadline.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := pollUntil(timeout, cond); err != nil {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

func pollUntil(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	interval := 5 * time.Millisecond
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("deadline exceeded")
		}
		time.Sleep(interval)
		if interval < 100*time.Millisecond {
			interval *= 2
		}
	}
}

// ---------------------------------------------------------------- ports and dirs

var (
	portMu    sync.Mutex
	usedPorts = map[int]bool{}
)

// freePort returns a loopback TCP port that was free a moment ago and that
// this process has not handed out before.
func freePort(t testing.TB) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !usedPorts[port] {
			usedPorts[port] = true
			return port
		}
	}
	t.Fatal("free port: no unused port after 50 tries")
	return 0
}

// shortTempDir is a temp dir with a short path (Unix socket paths are limited
// to 107 bytes, and t.TempDir() embeds the test name).
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// ---------------------------------------------------------------- processes

// logBuffer collects a process's combined output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{}
	err  error // valid after done is closed
}

var procSeq struct {
	sync.Mutex
	n int
}

// startProc starts a process whose output is kept for assertions and dumped
// when the test fails. t.Cleanup kills it (SIGTERM, then SIGKILL after 5 s).
func startProc(t testing.TB, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	lb := &logBuffer{}
	cmd.Stdout = lb
	cmd.Stderr = lb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s (%s): %v", name, bin, err)
	}
	procSeq.Lock()
	procSeq.n++
	seq := procSeq.n
	procSeq.Unlock()
	p := &proc{name: fmt.Sprintf("%s#%d", name, seq), cmd: cmd, log: lb, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Logf("started %s: pid %d: %s %s", p.name, cmd.Process.Pid, filepath.Base(bin), strings.Join(args, " "))
	t.Cleanup(func() {
		p.stop(5 * time.Second)
		if t.Failed() {
			dumpLog(t, p)
		}
	})
	return p
}

func dumpLog(t testing.TB, p *proc) {
	const maxBytes = 24 << 10
	s := p.log.String()
	if len(s) > maxBytes {
		s = "...[truncated]...\n" + s[len(s)-maxBytes:]
	}
	t.Logf("===== log of %s (pid %d) =====\n%s\n===== end of %s =====", p.name, p.cmd.Process.Pid, s, p.name)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs the process group.
// It returns the exit error (nil for exit code 0) and whether SIGKILL was needed.
func (p *proc) stop(grace time.Duration) (error, bool) {
	if p.exited() {
		return p.err, false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err, false
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	return p.err, true
}

// kill SIGKILLs the process group (a crash) and waits for it to be gone.
func (p *proc) kill(t testing.TB) {
	t.Helper()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		t.Logf("%s killed (SIGKILL)", p.name)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10 s after SIGKILL", p.name)
	}
}

// stopOK stops the process and fails the test unless it exits 0 within grace.
func (p *proc) stopOK(t testing.TB, grace time.Duration) {
	t.Helper()
	start := time.Now()
	err, killed := p.stop(grace)
	if killed {
		t.Fatalf("%s did not exit within %v of SIGTERM", p.name, grace)
	}
	if err != nil {
		t.Fatalf("%s exited with %v after SIGTERM", p.name, err)
	}
	t.Logf("%s exited 0 %v after SIGTERM", p.name, time.Since(start).Round(time.Millisecond))
}

func (p *proc) count(substr string) int { return strings.Count(p.log.String(), substr) }

// waitLog waits until the process has logged substr at least n times.
func (p *proc) waitLog(t testing.TB, substr string, n int, timeout time.Duration) {
	t.Helper()
	if err := pollUntil(timeout, func() bool { return p.count(substr) >= n || p.exited() }); err != nil || p.count(substr) < n {
		t.Fatalf("%s: waited %v for %d× %q in its log, saw %d (exited: %v)", p.name, timeout, n, substr, p.count(substr), p.exited())
	}
}

// ---------------------------------------------------------------- mosquitto

type broker struct {
	port int
	proc *proc
}

func startMosquitto(t testing.TB) *broker {
	t.Helper()
	// A port may be taken between freePort and the bind: retry (bounded).
	for attempt := 1; ; attempt++ {
		b, clash := tryStartMosquitto(t)
		if b != nil {
			return b
		}
		if !clash || attempt == 3 {
			t.Fatalf("mosquitto exited at start (attempt %d)", attempt)
		}
	}
}

func tryStartMosquitto(t testing.TB) (*broker, bool) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
max_inflight_messages 100
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
connection_messages true
`, port)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "mosquitto", nil, bins.mosquitto, "-c", conf)
	waitUntil(t, 10*time.Second, "mosquitto to listen", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		return p.exited()
	})
	if p.exited() {
		return nil, strings.Contains(p.log.String(), "in use")
	}
	return &broker{port: port, proc: p}, false
}

func (b *broker) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }

// pub publishes one message with mosquitto_pub at QoS 1 and fails the test
// unless the broker acknowledged it.
func (b *broker) pub(t testing.TB, topic, payload string) {
	t.Helper()
	if err := mqttPublish(b.port, topic, payload); err != nil {
		t.Fatal(err)
	}
}

// mqttPublish runs mosquitto_pub -q 1, which exits 0 only after the
// broker's PUBACK.
func mqttPublish(port int, topic, payload string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bins.mosquittoPub, "-h", "127.0.0.1", "-p", fmt.Sprint(port),
		"-q", "1", "-t", topic, "-m", payload, "-i", uniq("e2e-pub")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mosquitto_pub -t %s -m %q: %v: %s", topic, payload, err, out)
	}
	return nil
}

// mqttSub is a mosquitto_sub waiting for count messages on a filter.
type mqttSub struct {
	proc *proc
}

// sub starts mosquitto_sub (-C count -W secs) and returns once the broker
// has logged its subscription (mosquitto_sub's own -d output is block-buffered
// when it is not a terminal, so the broker's "subscribe" log is the signal).
func (b *broker) sub(t testing.TB, filter string, count int, waitSecs int) *mqttSub {
	t.Helper()
	id := uniq("e2e-sub")
	p := startProc(t, "mosquitto_sub", nil, bins.mosquittoSub, "-h", "127.0.0.1", "-p", fmt.Sprint(b.port),
		"-q", "1", "-t", filter, "-v", "-i", id, "-C", fmt.Sprint(count), "-W", fmt.Sprint(waitSecs))
	b.proc.waitLog(t, id+" 1 "+filter, 1, 10*time.Second)
	return &mqttSub{proc: p}
}

// lines waits for mosquitto_sub to exit and returns its "topic payload" lines.
func (s *mqttSub) lines(t testing.TB, timeout time.Duration) []string {
	t.Helper()
	select {
	case <-s.proc.done:
	case <-time.After(timeout):
		t.Fatalf("mosquitto_sub did not finish within %v", timeout)
	}
	if s.proc.err != nil {
		t.Fatalf("mosquitto_sub: %v (timed out without a message?)", s.proc.err)
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s.proc.log.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		out = append(out, line)
	}
	return out
}

// ---------------------------------------------------------------- bridge

type bridge struct {
	socketDir string
	stateDir  string
	proc      *proc
}

const socketName = "mqtt-bridge"
const componentType = "pubsub." + socketName

// startBridge starts the bridge and returns once its socket accepts connections.
func startBridge(t testing.TB, socketDir string) *bridge {
	t.Helper()
	if socketDir == "" {
		socketDir = shortTempDir(t, "e2e-sock")
	}
	state := t.TempDir()
	p := startProc(t, "bridge", []string{"DAPR_COMPONENTS_SOCKETS_FOLDER=" + socketDir}, bins.bridge,
		"--socket-name", socketName, "--state-dir", state, "--log-level", "debug")
	b := &bridge{socketDir: socketDir, stateDir: state, proc: p}
	sock := filepath.Join(socketDir, socketName+".sock")
	waitUntil(t, 15*time.Second, "the bridge socket "+sock, func() bool {
		if p.exited() {
			return true
		}
		c, err := net.DialTimeout("unix", sock, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return strings.Contains(p.log.String(), "event=listening")
	})
	if p.exited() {
		t.Fatalf("bridge exited at start: %v", p.err)
	}
	return b
}

// ---------------------------------------------------------------- resources

type metaKV = [2]string

func componentYAML(name string, meta []metaKV) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: %s\n  version: v1\n  initTimeout: 10s\n  metadata:\n", name, componentType)
	for _, kv := range meta {
		fmt.Fprintf(&b, "  - name: %s\n    value: %q\n", kv[0], kv[1])
	}
	return b.String()
}

type subscription struct {
	name, pubsub, topic, route string
	meta                       map[string]string
}

func subscriptionYAML(s subscription) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: %s\nspec:\n  pubsubname: %s\n  topic: %q\n  routes:\n    default: %s\n", s.name, s.pubsub, s.topic, s.route)
	if len(s.meta) > 0 {
		b.WriteString("  metadata:\n")
		for k, v := range s.meta {
			fmt.Fprintf(&b, "    %s: %q\n", k, v)
		}
	}
	return b.String()
}

func writeResources(t testing.TB, docs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for i, d := range docs {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%02d.yaml", i)), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ---------------------------------------------------------------- daprd

type daprd struct {
	appID    string
	httpPort int
	proc     *proc
}

type daprdOpts struct {
	appID, resources, socketDir string
	appPort                     int
	extraArgs                   []string
}

// startDaprd starts our daprd and waits for GET /v1.0/healthz to answer 204.
// A port taken between freePort and daprd's bind makes it retry (bounded).
func startDaprd(t testing.TB, o daprdOpts) *daprd {
	t.Helper()
	for attempt := 1; ; attempt++ {
		d := tryStartDaprd(t, o)
		if !d.proc.exited() {
			return d
		}
		if !strings.Contains(d.proc.log.String(), "address already in use") || attempt == 3 {
			t.Fatalf("daprd %s exited at start (attempt %d): %v", o.appID, attempt, d.proc.err)
		}
	}
}

func tryStartDaprd(t testing.TB, o daprdOpts) *daprd {
	t.Helper()
	httpPort := freePort(t)
	args := []string{
		"--app-id", o.appID,
		"--resources-path", o.resources,
		"--app-port", fmt.Sprint(o.appPort),
		"--app-channel-address", "127.0.0.1",
		"--dapr-http-port", fmt.Sprint(httpPort),
		"--dapr-grpc-port", fmt.Sprint(freePort(t)),
		"--dapr-internal-grpc-port", fmt.Sprint(freePort(t)),
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--enable-metrics=false",
		"--dapr-graceful-shutdown-seconds", "3",
		"--log-level", "info",
	}
	args = append(args, o.extraArgs...)
	p := startProc(t, "daprd-"+o.appID, []string{"DAPR_COMPONENTS_SOCKETS_FOLDER=" + o.socketDir}, bins.daprd, args...)
	d := &daprd{appID: o.appID, httpPort: httpPort, proc: p}
	start := time.Now()
	client := &http.Client{Timeout: 2 * time.Second}
	waitUntil(t, 60*time.Second, "daprd "+o.appID+" GET /v1.0/healthz = 204", func() bool {
		if p.exited() {
			return true
		}
		resp, err := client.Get(d.url("/v1.0/healthz"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNoContent
	})
	if !p.exited() {
		t.Logf("daprd %s healthy after %v", o.appID, time.Since(start).Round(time.Millisecond))
	}
	return d
}

func (d *daprd) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", d.httpPort, path)
}

// publish POSTs a JSON payload to /v1.0/publish/<pubsub>/<topic> and returns
// the status code and body.
func (d *daprd) publish(t testing.TB, pubsub, topic string, payload any) (int, string) {
	t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return d.publishRaw(t, pubsub, topic, "application/json", body)
}

func (d *daprd) publishRaw(t testing.TB, pubsub, topic, contentType string, body []byte) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Post(d.url("/v1.0/publish/"+pubsub+"/"+topic), contentType, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *daprd) mustPublish(t testing.TB, pubsub, topic string, payload any) {
	t.Helper()
	if code, body := d.publish(t, pubsub, topic, payload); code != http.StatusNoContent {
		t.Fatalf("publish %s/%s through daprd %s: HTTP %d %s", pubsub, topic, d.appID, code, body)
	}
}

type metadataResp struct {
	ID         string `json:"id"`
	Components []struct {
		Name         string   `json:"name"`
		Type         string   `json:"type"`
		Version      string   `json:"version"`
		Capabilities []string `json:"capabilities"`
	} `json:"components"`
	Subscriptions []struct {
		PubsubName string            `json:"pubsubname"`
		Topic      string            `json:"topic"`
		Metadata   map[string]string `json:"metadata"`
	} `json:"subscriptions"`
}

func (d *daprd) metadata(t testing.TB) metadataResp {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(d.url("/v1.0/metadata"))
	if err != nil {
		t.Fatalf("GET /v1.0/metadata: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1.0/metadata: HTTP %d %s", resp.StatusCode, b)
	}
	var m metadataResp
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET /v1.0/metadata: %v: %s", err, b)
	}
	return m
}

// ---------------------------------------------------------------- the app

// delivery is one request daprd made to the app.
type delivery struct {
	Route   string
	Header  http.Header
	Body    []byte
	CE      map[string]any // the body parsed as JSON, if it is a JSON object
	Attempt int            // 1 for the first delivery of this key (see app.key)
	At      time.Time
}

// Data is the CloudEvent's payload as bytes: data_base64 decoded, a JSON
// string's value, or the JSON of any other data. In binary mode (the body is
// not a JSON object) it is the body itself.
func (d delivery) Data() []byte {
	if d.CE == nil {
		return d.Body
	}
	if s, ok := d.CE["data_base64"].(string); ok {
		b, _ := base64.StdEncoding.DecodeString(s)
		return b
	}
	switch v := d.CE["data"].(type) {
	case nil:
		return nil
	case string:
		return []byte(v)
	default:
		b, _ := json.Marshal(v)
		return b
	}
}

func (d delivery) str(field string) string {
	if d.CE == nil {
		return ""
	}
	s, _ := d.CE[field].(string)
	return s
}

// answer is what a route handler replies: an HTTP status and a body.
type answer struct {
	status int
	body   string
}

var ok200 = answer{200, `{"status":"SUCCESS"}`}

type app struct {
	t        testing.TB
	server   *httptest.Server
	mu       sync.Mutex
	got      []delivery
	attempts map[string]int
	routes   map[string]func(delivery) answer
	// key identifies a message for attempt counting (default: route+body).
	key func(delivery) string
}

func newApp(t testing.TB) *app {
	a := &app{t: t, attempts: map[string]int{}, routes: map[string]func(delivery) answer{}}
	a.key = func(d delivery) string { return d.Route + "\x00" + string(d.Data()) }
	a.server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.server.Close)
	return a
}

func (a *app) port() int { return a.server.Listener.Addr().(*net.TCPAddr).Port }

// handle sets the handler of a route; routes without one answer SUCCESS.
func (a *app) handle(route string, h func(delivery) answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[route] = h
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/dapr/subscribe" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
		return
	}
	if r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	d := delivery{Route: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()}
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		d.CE = obj
	}
	a.mu.Lock()
	k := a.key(d)
	a.attempts[k]++
	d.Attempt = a.attempts[k]
	a.got = append(a.got, d)
	h := a.routes[d.Route]
	a.mu.Unlock()
	ans := ok200
	if h != nil {
		ans = h(d)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ans.status)
	_, _ = w.Write([]byte(ans.body))
}

// deliveries returns the deliveries that match pred.
func (a *app) deliveries(pred func(delivery) bool) []delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []delivery
	for _, d := range a.got {
		if pred == nil || pred(d) {
			out = append(out, d)
		}
	}
	return out
}

// waitDeliveries waits until at least n deliveries match pred and returns them.
func (a *app) waitDeliveries(t testing.TB, n int, timeout time.Duration, what string, pred func(delivery) bool) []delivery {
	t.Helper()
	var got []delivery
	if err := pollUntil(timeout, func() bool { got = a.deliveries(pred); return len(got) >= n }); err != nil {
		t.Fatalf("timed out after %v waiting for %d deliveries of %s; got %d: %s", timeout, n, what, len(got), summarize(got))
	}
	return got
}

func summarize(ds []delivery) string {
	var parts []string
	for i, d := range ds {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("...(%d more)", len(ds)-10))
			break
		}
		parts = append(parts, fmt.Sprintf("[%s attempt %d %q]", d.Route, d.Attempt, truncate(string(d.Body), 200)))
	}
	return strings.Join(parts, " ")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// uniq returns a short id unique within this test run.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}
