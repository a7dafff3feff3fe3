// Package chtest starts throwaway clickhouse-server processes for tests:
// one node, or a cluster of single-replica shards on loopback. Every server
// lives in its own temporary directory with a generated configuration, listens
// on free loopback ports, and is stopped when the test ends. No system service
// is used or touched.
//
// When no clickhouse-server binary is found the calling test is skipped with a
// message saying how to get one (Debian: apt-get install -y clickhouse-server),
// or fails when IDLOG_REQUIRE_CLICKHOUSE is set.
package chtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// EnvBinary names an environment variable that overrides where the
// clickhouse-server binary is looked for.
const EnvBinary = "IDLOG_CLICKHOUSE_SERVER"

// EnvRequire names an environment variable that, when set, turns a missing
// binary into a test failure instead of a skip, so that CI cannot pass
// without running the ClickHouse tests.
const EnvRequire = "IDLOG_REQUIRE_CLICKHOUSE"

// Binary returns the path of clickhouse-server: $IDLOG_CLICKHOUSE_SERVER, then
// PATH, then the places Debian and the upstream packages install it (which
// are often missing from a test's PATH, /usr/sbin in particular).
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server", "/usr/local/bin/clickhouse-server"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("clickhouse-server not found")
}

// skipIfMissing skips t when there is no binary, and returns it otherwise.
func skipIfMissing(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err != nil && os.Getenv(EnvRequire) != "" {
		t.Fatalf("%v, and %s is set: ClickHouse tests must run here", err, EnvRequire)
	}
	if err != nil {
		t.Skipf("skipping ClickHouse test: %v (install it with `apt-get install -y clickhouse-server`, or set %s to the binary)", err, EnvBinary)
	}
	return bin
}

// Server is one running clickhouse-server.
type Server struct {
	// Addr is host:port of the native protocol.
	Addr string
	// Dir holds the configuration, data and logs.
	Dir string

	bin    string
	config string
	t      testing.TB

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartServer starts one clickhouse-server for the test and returns the DSN
// of a database on it (clickhouse://127.0.0.1:PORT/idlog_test). The database
// itself is not created: the store creates its schema when missing. Tests that
// need one fresh database per subtest can change the path.
func StartServer(t testing.TB) string {
	t.Helper()
	bin := skipIfMissing(t)
	port := freePort(t)
	s := newServer(t, bin, port, "")
	s.start()
	return "clickhouse://" + s.Addr + "/idlog_test"
}

// Cluster is a set of servers that each know the others as the shards of
// one cluster named Name (one replica per shard, no ZooKeeper).
type Cluster struct {
	Name  string
	Nodes []*Server
}

// DSN is the store URL of a database on the cluster, entering through node 0.
func (c *Cluster) DSN(db string) string {
	return "clickhouse://" + c.Nodes[0].Addr + "/" + db + "?cluster=" + c.Name
}

// StartCluster starts shards servers that form one cluster.
func StartCluster(t testing.TB, shards int) *Cluster {
	t.Helper()
	bin := skipIfMissing(t)
	if shards < 1 {
		t.Fatalf("chtest: %d shards", shards)
	}
	ports := make([]int, shards)
	for i := range ports {
		ports[i] = freePort(t)
	}
	c := &Cluster{Name: "idlog_test_cluster"}
	var remote strings.Builder
	fmt.Fprintf(&remote, "<remote_servers><%s>", c.Name)
	for _, p := range ports {
		fmt.Fprintf(&remote, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", p)
	}
	fmt.Fprintf(&remote, "</%s></remote_servers>", c.Name)
	for _, p := range ports {
		c.Nodes = append(c.Nodes, newServer(t, bin, p, remote.String()))
	}
	// Start them side by side: each takes about a second to come up.
	var wg sync.WaitGroup
	errs := make([]error, len(c.Nodes))
	for i, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Start()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func newServer(t testing.TB, bin string, port int, remoteServers string) *Server {
	t.Helper()
	killLeftovers()
	dir := t.TempDir()
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, bin: bin, t: t}
	s.config = filepath.Join(dir, "config.xml")
	users := filepath.Join(dir, "users.xml")
	if err := os.WriteFile(s.config, []byte(serverConfig(dir, port, users, remoteServers)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(users, []byte(usersConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("chtest: stopping %s: %v", s.Addr, err)
		}
	})
	return s
}

func (s *Server) start() {
	s.t.Helper()
	if err := s.Start(); err != nil {
		s.t.Fatal(err)
	}
}

// Start starts the server (again, after Stop: the data directory is kept)
// and waits until it answers on its native port.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("chtest: %s already running", s.Addr)
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "--config-file="+s.config)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, and killed with the test binary if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("chtest: starting %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	recordServer(cmd.Process.Pid, s.config)

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("chtest: clickhouse-server on %s exited during start-up:\n%s", s.Addr, s.logTail())
		default:
		}
		if ready(s.Addr) {
			return nil
		}
		if time.Now().After(deadline) {
			s.stopLocked()
			return fmt.Errorf("chtest: clickhouse-server on %s not ready after 60s:\n%s", s.Addr, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server: SIGTERM, then SIGKILL after three seconds (a server
// with open client connections can take much longer to finish). Stopping a
// stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-s.done
	}
	forgetServer(pid)
	s.cmd = nil
	return nil
}

func (s *Server) logTail() string {
	var out []byte
	for _, name := range []string{"stdout.log", "server.err.log"} {
		b, _ := os.ReadFile(filepath.Join(s.Dir, name))
		if len(b) > 2000 {
			b = b[len(b)-2000:]
		}
		out = append(out, b...)
	}
	return string(out)
}

// ready reports whether the server at addr answers a ping over the native
// protocol (an open port alone can come before the server is usable).
func ready(addr string) bool {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		DialTimeout: time.Second,
	})
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return conn.Ping(ctx) == nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func serverConfig(dir string, port int, users, remoteServers string) string {
	return fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>%[1]s/server.log</log>
    <errorlog>%[1]s/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/data/tmp/</tmp_path>
  <user_files_path>%[1]s/data/user_files/</user_files_path>
  <format_schema_path>%[1]s/data/format_schemas/</format_schema_path>
  <users_config>%[3]s</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>134217728</mark_cache_size>
  <uncompressed_cache_size>134217728</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <compression>
    <case><method>zstd</method></case>
  </compression>
  %[4]s
</yandex>
`, dir, port, users, remoteServers)
}

const usersConfig = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <background_pool_size>4</background_pool_size>
      <max_threads>2</max_threads>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`

// Leftovers: a test binary killed with SIGKILL cannot run its cleanups.
// Pdeathsig covers most of that, and as a second line every started server
// is recorded in a small file naming its pid, the test process's pid and its
// config path; the next run kills recorded servers whose test process is
// gone, checking the command line so an unrelated process that reused the
// pid is never touched.

func registryDir() string { return filepath.Join(os.TempDir(), "idlog-chtest") }

func recordServer(pid int, config string) {
	dir := registryDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	body := fmt.Sprintf("%d\n%s\n", os.Getpid(), config)
	_ = os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), []byte(body), 0o600)
}

func forgetServer(pid int) { _ = os.Remove(filepath.Join(registryDir(), strconv.Itoa(pid))) }

var leftoversOnce sync.Once

func killLeftovers() { leftoversOnce.Do(func() { killLeftoversIn(registryDir()) }) }

// killLeftoversIn kills the servers recorded in dir whose test process is
// gone, and removes their records and directories.
func killLeftoversIn(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		owner, config, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		ownerPid, _ := strconv.Atoi(owner)
		if ownerPid > 0 && alive(ownerPid) {
			continue // a test run that is still going owns it
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if config != "" && bytes.Contains(cmdline, []byte(config)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			// The server's directory was the dead test's temporary one.
			if d := filepath.Dir(config); strings.HasPrefix(d, os.TempDir()+string(filepath.Separator)) {
				_ = os.RemoveAll(d)
			}
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
