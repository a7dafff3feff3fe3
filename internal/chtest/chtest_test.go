package chtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func connect(t *testing.T, addr string) clickhouse.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, ReadTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestStartServer(t *testing.T) {
	dsn := StartServer(t)
	addr := strings.TrimPrefix(strings.TrimSuffix(dsn, "/idlog_test"), "clickhouse://")
	var v string
	if err := connect(t, addr).QueryRow(context.Background(), "SELECT version()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v == "" {
		t.Fatal("empty version")
	}
}

// TestCluster checks that every node sees the whole cluster and that a
// stopped shard can come back with its data.
func TestCluster(t *testing.T) {
	c := StartCluster(t, 2)
	ctx := context.Background()
	for i, n := range c.Nodes {
		var shards uint64
		if err := connect(t, n.Addr).QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", c.Name).Scan(&shards); err != nil {
			t.Fatal(err)
		}
		if shards != 2 {
			t.Errorf("node %d sees %d shards, want 2", i, shards)
		}
	}
	second := connect(t, c.Nodes[1].Addr)
	if err := second.Exec(ctx, "CREATE TABLE default.kept (x UInt8) ENGINE = MergeTree() ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	// 18.16 needs inserts as a batch that names its columns.
	batch, err := second.PrepareBatch(ctx, "INSERT INTO default.kept (x)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Append(uint8(7)); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes[1].Stop(); err != nil {
		t.Fatal(err)
	}
	if ready(c.Nodes[1].Addr) {
		t.Fatal("stopped node still answers")
	}
	if err := c.Nodes[1].Start(); err != nil {
		t.Fatal(err)
	}
	var x uint8
	if err := connect(t, c.Nodes[1].Addr).QueryRow(ctx, "SELECT x FROM default.kept").Scan(&x); err != nil {
		t.Fatal(err, c.Nodes[1].logTail())
	}
	t.Log(c.Nodes[1].logTail())
	if x != 7 {
		t.Errorf("after restart x = %d, want 7", x)
	}
}

// TestKillLeftovers records a stand-in "server" (a sleep whose command line
// names a config path) for a test process that has exited: the next start
// must kill it and clear the record, and must leave alone a record whose
// owner is alive.
func TestKillLeftovers(t *testing.T) {
	reg := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	serverDir, err := os.MkdirTemp("", "chtest-leftover")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(serverDir)
	config := filepath.Join(serverDir, "config.xml")
	orphan := exec.Command("sh", "-c", "sleep 60; :", "sh", "--config-file="+config) // "; :" keeps sh from exec-ing sleep
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { orphan.Wait(); close(exited) }()
	defer orphan.Process.Kill()
	write := func(pid, owner int) {
		body := fmt.Sprintf("%d\n%s\n", owner, config)
		if err := os.WriteFile(filepath.Join(reg, strconv.Itoa(pid)), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	write(orphan.Process.Pid, os.Getpid()) // owner alive: keep
	killLeftoversIn(reg)
	select {
	case <-exited:
		t.Fatal("killed a server whose test is still running")
	case <-time.After(100 * time.Millisecond):
	}

	write(orphan.Process.Pid, dead.Process.Pid) // owner gone: kill
	killLeftoversIn(reg)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("leftover server still running")
	}
	if _, err := os.Stat(filepath.Join(reg, strconv.Itoa(orphan.Process.Pid))); !os.IsNotExist(err) {
		t.Errorf("record not removed: %v", err)
	}
	if _, err := os.Stat(serverDir); !os.IsNotExist(err) {
		t.Errorf("leftover directory not removed: %v", err)
	}
}
