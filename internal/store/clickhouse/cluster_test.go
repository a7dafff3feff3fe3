package clickhouse

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// TestShardDownMidIngest stops the second shard between the duplicate check
// and the insert of a batch. The client must get an error (no silent loss),
// rows that reached the live shard must stay invisible, and after the shard
// returns a retry must leave every event stored exactly once.
func TestShardDownMidIngest(t *testing.T) {
	c := chtest.StartCluster(t, 2)
	ctx := context.Background()
	s, err := Open(ctx, c.DSN("idlog_shards"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Synthetic(600, 11)
	first, second := evs[:200], evs[200:]
	if _, err := s.Append(ctx, first); err != nil {
		t.Fatal(err)
	}

	// The batch must really be split across both shards for the test to
	// mean anything.
	var before uint64
	for i, n := range s.nodes {
		var k uint64
		if err := n.QueryRow(ctx, "SELECT count() FROM "+s.local).Scan(&k); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			t.Fatalf("shard %d got none of the first batch", i+1)
		}
		if i == 0 {
			before = k
		}
	}

	t0 := time.Now()
	t.Log("first batch stored")
	s.beforeInsert = func() {
		if err := c.Nodes[1].Stop(); err != nil {
			t.Error(err)
		}
	}
	if _, err := s.Append(ctx, second); err == nil {
		t.Fatal("append with a shard down succeeded")
	} else {
		t.Logf("append with a shard down: %v", err)
	}
	s.beforeInsert = nil

	// Whatever reached shard 1 is stored but must not be visible yet.
	var after uint64
	if err := s.nodes[0].QueryRow(ctx, "SELECT count() FROM "+s.local).Scan(&after); err != nil {
		t.Fatal(err)
	}
	partial := after - before
	t.Log("restarting shard 2", time.Since(t0))
	if err := c.Nodes[1].Start(); err != nil {
		t.Fatal(err)
	}
	t.Log("shard 2 back", time.Since(t0))
	n, err := s.Count(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(first)) {
		t.Fatalf("after the failed batch %d events are visible, want %d (shard 1 holds %d rows)", n, len(first), partial)
	}

	res, err := s.Append(ctx, second)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if res.Added+res.Duplicates != len(second) {
		t.Fatalf("retry: %+v for %d events", res, len(second))
	}
	all, err := s.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range all {
		seen[e.UUID]++
	}
	for _, e := range evs {
		if seen[e.UUID] != 1 {
			t.Errorf("%s stored %d times", e.UUID, seen[e.UUID])
		}
	}
	if len(all) != len(evs) {
		t.Errorf("%d events stored, want %d", len(all), len(evs))
	}
	// Rows per node, to show the retry did not write a second copy on the
	// shard that stayed up.
	var total uint64
	for _, node := range s.nodes {
		var k uint64
		if err := node.QueryRow(ctx, "SELECT count() FROM "+s.local).Scan(&k); err != nil {
			t.Fatal(err)
		}
		total += k
	}
	if total != uint64(len(evs)) {
		t.Errorf("%d rows on the shards, want %d", total, len(evs))
	}
	t.Logf("rows the failed insert left on shard 1: %d; retry %+v (%v)", partial, res, time.Since(t0))

	// The rows the failed insert left on shard 1 had no postings; the
	// retry indexed them before making them visible.
	checkKeysComplete(t, s, evs)
}

// TestClusterShares loads a simulated org into a two-shard cluster and
// reports what each shard holds, events and bytes (every table idlog
// created, parts merged): sharding by the user an event is about must
// split both about evenly. IDLOG_CLUSTER_EVENTS sets the number of events
// (default 10,000; docs/clickhouse.md, "Sizing", used 100,000).
func TestClusterShares(t *testing.T) {
	n := 10000
	if v := os.Getenv("IDLOG_CLUSTER_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	c := chtest.StartCluster(t, 2)
	ctx := context.Background()
	s, err := Open(ctx, c.DSN("idlog_shares"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := storetest.Simulated(simulate.Config{Users: max(100, n/300), Days: 30, Seed: 3, Attacks: true}, n)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i := 0; i < len(evs); i += 5000 {
		if _, err := s.Append(ctx, evs[i:min(i+5000, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(t0)
	var events, bytes [2]float64
	for i, node := range s.nodes {
		var k uint64
		if err := node.QueryRow(ctx, "SELECT count() FROM "+s.local).Scan(&k); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{s.local, s.postingsLocal, s.hourlyLocal} {
			if err := node.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
				t.Fatal(err)
			}
		}
		var b uint64
		if err := node.QueryRow(ctx, "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = ?", s.db).Scan(&b); err != nil {
			t.Fatal(err)
		}
		events[i], bytes[i] = float64(k), float64(b)
	}
	total := events[0] + events[1]
	if total != float64(len(evs)) {
		t.Fatalf("%v rows on the shards, want %d", total, len(evs))
	}
	t.Logf("%d events in %v (%.0f events/s, both shards and idlog on this machine)", len(evs), took.Round(time.Millisecond), float64(len(evs))/took.Seconds())
	for i := range events {
		t.Logf("shard %d: %.0f events (%.1f%%), %.0f bytes (%.1f%%), %.0f bytes/event", i+1, events[i], 100*events[i]/total,
			bytes[i], 100*bytes[i]/(bytes[0]+bytes[1]), bytes[i]/events[i])
		if share := events[i] / total; share < 0.35 || share > 0.65 {
			t.Errorf("shard %d holds %.1f%% of the events", i+1, 100*share)
		}
		if share := bytes[i] / (bytes[0] + bytes[1]); share < 0.35 || share > 0.65 {
			t.Errorf("shard %d holds %.1f%% of the bytes", i+1, 100*share)
		}
	}
}
