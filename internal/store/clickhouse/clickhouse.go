// Package clickhouse is the idlog store on ClickHouse, for deployments that
// outgrow the embedded store: one server, or a cluster of shards behind a
// Distributed table. It speaks the native protocol and uses only SQL that
// ClickHouse 18.16 (Debian's package) and current releases both accept.
//
// How the pieces fit (docs/clickhouse.md has the reasoning):
//   - every value a filter can reach is laid out at ingest into array
//     columns (row.go), so every operator compiles to exact SQL (compile.go);
//   - Seq is assigned by this process under a mutex, and rows become visible
//     only when a watermark row in idlog_state covers their seq, so a batch
//     (with its checkpoint) appears all at once, and a polling cursor on seq
//     never skips a row that committed late;
//   - uuids already stored are found with a primary-key lookup before insert;
//   - pages about one user, IP or session read that key's rows of the
//     postings table and then the page's events by their sort key, checked
//     both ways (postings.go); unfiltered hourly histograms come from a
//     rollup kept by a materialized view (hourly.go);
//   - DeleteBefore hides rows at once with a tombstone in idlog_state and
//     drops the months wholly before the cut.
package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/idlog/idlog/internal/store"
)

// Store is a ClickHouse-backed store.Store and store.Checkpointer.
type Store struct {
	conn    driver.Conn   // the node the URL names: queries, inserts, state
	nodes   []driver.Conn // every shard (cluster) or just conn: DDL, deletes, sizes
	db      string        // validated identifier
	cluster string        // "" for a single node
	events  string        // qualified table queries and inserts go to
	local   string        // qualified MergeTree table on each node
	state   string        // qualified idlog_state table on the entry node

	// postings and hourly are what reads use, postingsLocal and
	// hourlyLocal the MergeTree tables on each node (the same on a single
	// server): see postings.go and hourly.go.
	postings, postingsLocal string
	hourly, hourlyLocal     string // the rollup of hourly.go

	// indexMisses counts pages whose postings disagreed with the events
	// table (answered from the events table); postingsPages counts pages
	// the postings answered.
	indexMisses, postingsPages atomic.Int64
	rollupHistograms           atomic.Int64 // histograms the hourly rollup answered

	// mu serializes writers in this process: seq assignment, the duplicate
	// check and the watermark must not interleave.
	mu           sync.Mutex
	nextSeq      int64
	stateVersion uint64
	// reindexNeeded: rows past the watermark may lack postings; the next
	// Append indexes them before it moves the watermark.
	reindexNeeded bool

	// noPostings and noRollup (tests) answer every page and histogram
	// from the events table.
	noPostings, noRollup bool

	// beforeInsert, when set (by tests), runs between the duplicate check
	// and the insert.
	beforeInsert func()
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.Checkpointer = (*Store)(nil)
	_ store.BatchSizer   = (*Store)(nil)
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Config is a parsed store URL.
type Config struct {
	Addr     string // host:port of the native protocol
	Database string
	Cluster  string
	User     string
	Password string
}

// ParseURL parses clickhouse://HOST[:PORT]/DB[?cluster=NAME&user=U&password=P].
// The port defaults to 9000 (native protocol) and the database to idlog.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("clickhouse: store URL: %w", err)
	}
	if u.Scheme != "clickhouse" || u.Host == "" {
		return Config{}, fmt.Errorf("clickhouse: store URL %q: want clickhouse://HOST:PORT/DB", raw)
	}
	c := Config{Addr: u.Host, Database: strings.Trim(u.Path, "/")}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		c.Addr = net.JoinHostPort(u.Host, "9000")
	}
	if c.Database == "" {
		c.Database = "idlog"
	}
	if !identRE.MatchString(c.Database) {
		return Config{}, fmt.Errorf("clickhouse: store URL: database %q is not a plain identifier", c.Database)
	}
	// ParseQuery, unlike URL.Query, refuses what it cannot parse (a ';'
	// would otherwise drop a parameter silently).
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("clickhouse: store URL %q: %w", raw, err)
	}
	for k := range q {
		switch k {
		case "cluster", "user", "password":
		default:
			return Config{}, fmt.Errorf("clickhouse: store URL: unknown parameter %q (known: cluster, user, password)", k)
		}
	}
	c.Cluster, c.User, c.Password = q.Get("cluster"), q.Get("user"), q.Get("password")
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.Cluster != "" && !identRE.MatchString(c.Cluster) {
		return Config{}, fmt.Errorf("clickhouse: store URL: cluster %q is not a plain identifier", c.Cluster)
	}
	return c, nil
}

func dial(addr string, cfg Config, settings clickhouse.Settings) (driver.Conn, error) {
	return clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		Auth:        clickhouse.Auth{Username: cfg.User, Password: cfg.Password},
		Protocol:    clickhouse.Native,
		DialTimeout: 5 * time.Second,
		// Queries are bounded by their context (the API's 30 s); this
		// only catches a server that stopped answering. A minute was
		// too short for a duplicate check during heavy merges at 9M
		// events on two cores.
		ReadTimeout:  5 * time.Minute,
		MaxOpenConns: 8,
		Settings:     settings,
	})
}

// Open connects to the server (or the cluster's entry node) that rawURL
// names and creates the schema when it is missing.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{db: cfg.Database, cluster: cfg.Cluster}
	var settings clickhouse.Settings
	if cfg.Cluster != "" {
		// A Distributed insert returns only once every shard has its rows,
		// so a shard that is down is an error now, not a loss later.
		settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	s.conn, err = dial(cfg.Addr, cfg, settings)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %s: %w", cfg.Addr, err)
	}
	if err := s.conn.Ping(ctx); err != nil {
		s.conn.Close()
		return nil, fmt.Errorf("clickhouse: %s: %w", cfg.Addr, err)
	}
	s.setNames()
	if cfg.Cluster == "" {
		s.nodes = []driver.Conn{s.conn}
	} else {
		if err := s.dialShards(ctx, cfg); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.createSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadCounters(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// setNames sets the qualified table names from db and cluster.
func (s *Store) setNames() {
	q := func(name string) string { return "`" + s.db + "`.`" + name + "`" }
	s.state = q("idlog_state")
	s.events, s.postings, s.hourly = q("events"), q("postings"), q("events_hourly")
	if s.cluster == "" {
		s.local, s.postingsLocal, s.hourlyLocal = s.events, s.postings, s.hourly
	} else {
		s.local, s.postingsLocal, s.hourlyLocal = q("events_local"), q("postings_local"), q("events_hourly_local")
	}
}

// dialShards connects to every node of the cluster, as the entry node's
// remote_servers names them: tables are created on each (18.16's ON CLUSTER
// needs ZooKeeper, which a plain sharded setup does not have).
func (s *Store) dialShards(ctx context.Context, cfg Config) error {
	rows, err := s.conn.Query(ctx, "SELECT host_address, port FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num", cfg.Cluster)
	if err != nil {
		return fmt.Errorf("clickhouse: reading cluster %s: %w", cfg.Cluster, err)
	}
	defer rows.Close()
	var addrs []string
	for rows.Next() {
		var host string
		var port uint16
		if err := rows.Scan(&host, &port); err != nil {
			return err
		}
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("clickhouse: cluster %q is not in the remote_servers of %s", cfg.Cluster, cfg.Addr)
	}
	for _, a := range addrs {
		c, err := dial(a, cfg, nil)
		if err != nil {
			return fmt.Errorf("clickhouse: shard %s: %w", a, err)
		}
		s.nodes = append(s.nodes, c)
	}
	return nil
}

// columnsDDL is the events table's columns; columnNames is the same list in
// the order inserts send it.
var columnsDDL, columnNames = func() (string, string) {
	cols := [][2]string{
		{"seq", "Int64"},
		{"uuid", "String"},
		{"published_ms", "Int64"},
		{"event_type", "String"},
		{"user_key", "String"},
		{"outcome", "String"},
		{"pub_ms", "Array(Int64)"},
	}
	for _, h := range hotColumns {
		cols = append(cols, [2]string{h.name, "Array(String)"})
	}
	cols = append(cols,
		[2]string{"kv", "Array(String)"},
		[2]string{"num_path", "Array(String)"},
		[2]string{"num_val", "Array(Float64)"},
		[2]string{"present", "Array(String)"},
		[2]string{"tokens", "Array(String)"},
		[2]string{"raw", "String"},
	)
	var ddl, names []string
	for _, c := range cols {
		ddl = append(ddl, "    "+c[0]+" "+c[1])
		names = append(names, c[0])
	}
	return strings.Join(ddl, ",\n"), strings.Join(names, ", ")
}()

// mergeTree is the engine clause of the events table (see docs/decisions.md,
// "ClickHouse: sort key"). The partition expression clamps to the range
// DateTime can hold, so any published time gets a partition.
//
// The granule is 256 rows: a page of one user's events is fetched by sort
// key (postings.go), one granule per row, and each granule's raw JSON is
// decompressed whole. At 1,024 rows a page of 100 read about 34,000 rows;
// at 256, 17,000, in a third of the time, for 6% more bytes on disk
// (docs/decisions.md, "ClickHouse: 256-row granules"). Tables created with
// the earlier 1,024 are read the same way, only slower.
const mergeTree = `ENGINE = MergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(least(greatest(published_ms, 0), 4294967295000), 1000), 'UTC'))
ORDER BY (event_type, published_ms, uuid)
SETTINGS index_granularity = 256`

// DDL returns the statements Open runs, for documentation and tests.
func (s *Store) DDL() []string {
	out := []string{"CREATE DATABASE IF NOT EXISTS `" + s.db + "`"}
	out = append(out, "CREATE TABLE IF NOT EXISTS "+s.local+" (\n"+columnsDDL+"\n) "+mergeTree)
	if s.cluster != "" {
		out = append(out, "CREATE TABLE IF NOT EXISTS "+s.events+" AS "+s.local+
			" ENGINE = Distributed('"+s.cluster+"', '"+s.db+"', 'events_local', cityHash64(user_key))")
	}
	out = append(out, s.postingsDDL()...)
	return append(out, s.hourlyDDL()...)
}

const stateDDL = ` (
    key String,
    value String,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY key`

func (s *Store) createSchema(ctx context.Context) error {
	// A database created by a release without postings or the hourly
	// rollup has events and not those tables: its rows get them below,
	// once the views that fill them for new rows are in place.
	missing := map[string]bool{}
	for _, n := range s.nodes {
		exists := func(table string) (bool, error) {
			var k uint64
			err := n.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", s.db, unqualified(table)).Scan(&k)
			return k > 0, err
		}
		had, err := exists(s.local)
		if err != nil {
			return fmt.Errorf("clickhouse: creating schema: %w", err)
		}
		for key, table := range map[string]string{"postings_backfill": s.postingsLocal, "hourly_backfill": s.hourlyLocal} {
			ok, err := exists(table)
			if err != nil {
				return fmt.Errorf("clickhouse: creating schema: %w", err)
			}
			if had && !ok {
				missing[key] = true
			}
		}
		for _, stmt := range s.DDL() {
			if err := n.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("clickhouse: creating schema: %w", err)
			}
		}
	}
	if err := s.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+s.state+stateDDL); err != nil {
		return fmt.Errorf("clickhouse: creating schema: %w", err)
	}
	if err := s.conn.QueryRow(ctx, "SELECT max(version) FROM "+s.state).Scan(&s.stateVersion); err != nil {
		return fmt.Errorf("clickhouse: reading state: %w", err)
	}
	if len(missing) > 0 {
		var maxSeq int64
		if err := s.conn.QueryRow(ctx, "SELECT max(seq) FROM "+s.events).Scan(&maxSeq); err != nil {
			return fmt.Errorf("clickhouse: migrating: %w", err)
		}
		var kv []string
		for key := range missing {
			kv = append(kv, key, strconv.FormatInt(maxSeq, 10))
		}
		if err := s.writeState(ctx, kv...); err != nil {
			return err
		}
	}
	st, err := s.readState(ctx)
	if err != nil {
		return err
	}
	if st.postingsBackfill > 0 {
		if _, err := s.reindex(ctx, frag{"seq <= ?", []any{st.postingsBackfill}}); err != nil {
			return err
		}
		if err := s.writeState(ctx, "postings_backfill", "0"); err != nil {
			return err
		}
	}
	if st.hourlyBackfill > 0 {
		if err := s.backfillHourly(ctx, st.hourlyBackfill); err != nil {
			return err
		}
		if err := s.writeState(ctx, "hourly_backfill", "0"); err != nil {
			return err
		}
	}
	return nil
}

// unqualified is the table name of a qualified `db`.`name`.
func unqualified(q string) string {
	return strings.Trim(q[strings.LastIndex(q, ".")+1:], "`")
}

// loadCounters sets the next seq past every stored row, visible or not (a
// failed insert may have left rows behind that a retry will make visible),
// and the state version past every state row.
func (s *Store) loadCounters(ctx context.Context) error {
	var maxSeq int64
	if err := s.conn.QueryRow(ctx, "SELECT max(seq) FROM "+s.events).Scan(&maxSeq); err != nil {
		return fmt.Errorf("clickhouse: reading max seq: %w", err)
	}
	st, err := s.readState(ctx)
	if err != nil {
		return err
	}
	s.nextSeq = max(maxSeq, st.watermark) + 1
	// Rows past the watermark were left by an Append that failed or was
	// killed: their postings may be missing, and the next Append makes
	// them visible.
	s.reindexNeeded = maxSeq > st.watermark
	if err := s.conn.QueryRow(ctx, "SELECT max(version) FROM "+s.state).Scan(&s.stateVersion); err != nil {
		return fmt.Errorf("clickhouse: reading state: %w", err)
	}
	return nil
}

// tombstone hides rows published before T whose seq is at most S.
type tombstone struct {
	T int64 `json:"t"` // Unix ms
	S int64 `json:"s"`
}

// state is what idlog_state holds besides checkpoints.
type state struct {
	watermark  int64 // rows with a higher seq are not visible yet
	tombstones []tombstone
	// postingsBackfill, when not 0, is the highest seq of rows stored
	// before the postings existed whose postings are still being filled;
	// reads do not use the postings until it is 0 again.
	postingsBackfill int64
	postingsReady    bool
	// hourlyBackfill is the same for the hourly rollup.
	hourlyBackfill int64
	hourlyReady    bool
}

func (s *Store) readState(ctx context.Context) (state, error) {
	var st state
	rows, err := s.conn.Query(ctx, "SELECT key, argMax(value, version) FROM "+s.state+" WHERE key IN ('watermark', 'tombstones', 'postings_backfill', 'hourly_backfill') GROUP BY key")
	if err != nil {
		return st, fmt.Errorf("clickhouse: reading state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return st, err
		}
		switch k {
		case "watermark":
			st.watermark, err = strconv.ParseInt(v, 10, 64)
		case "tombstones":
			err = json.Unmarshal([]byte(v), &st.tombstones)
		case "postings_backfill":
			st.postingsBackfill, err = strconv.ParseInt(v, 10, 64)
		case "hourly_backfill":
			st.hourlyBackfill, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return st, fmt.Errorf("clickhouse: bad state %s=%q: %w", k, v, err)
		}
	}
	st.postingsReady = st.postingsBackfill == 0
	st.hourlyReady = st.hourlyBackfill == 0
	return st, rows.Err()
}

// notDeleted is the condition that keeps tombstoned rows out.
func (st state) notDeleted() frag {
	f := fragTrue
	for _, t := range st.tombstones {
		f = join("AND", f, frag{"NOT (published_ms < ? AND seq <= ?)", []any{t.T, t.S}})
	}
	return f
}

// visible is the condition every read applies.
func (st state) visible() frag {
	return join("AND", frag{"seq <= ?", []any{st.watermark}}, st.notDeleted())
}

// writeState inserts state rows in one block, which ClickHouse applies
// atomically to a plain MergeTree table: a watermark and a checkpoint set
// together become visible together.
func (s *Store) writeState(ctx context.Context, kv ...string) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.state+" (key, value, version)")
	if err != nil {
		return fmt.Errorf("clickhouse: writing state: %w", err)
	}
	defer batch.Abort()
	s.stateVersion++
	for i := 0; i+1 < len(kv); i += 2 {
		if err := batch.Append(kv[i], kv[i+1], s.stateVersion); err != nil {
			return fmt.Errorf("clickhouse: writing state: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: writing state: %w", err)
	}
	return nil
}

// Checkpoint implements store.Checkpointer.
func (s *Store) Checkpoint(ctx context.Context, key string) (string, error) {
	var v string
	err := s.conn.QueryRow(ctx, "SELECT argMax(value, version) FROM "+s.state+" WHERE key = ?", "checkpoint:"+key).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("clickhouse: reading checkpoint: %w", err)
	}
	return v, nil
}

// Get implements store.Store. uuid is not in the sort key, so this reads
// the uuid column of the whole table (a few hundred ms per 10 M events).
func (s *Store) Get(ctx context.Context, uuid string) (store.Event, error) {
	st, err := s.readState(ctx)
	if err != nil {
		return store.Event{}, err
	}
	where := join("AND", frag{"uuid = ?", []any{uuid}}, st.visible())
	evs, err := s.fetch(ctx, "SELECT seq, uuid, published_ms, raw FROM "+s.events+" WHERE "+where.sql+" ORDER BY seq LIMIT 1", where.args)
	if err != nil {
		return store.Event{}, err
	}
	if len(evs) == 0 {
		return store.Event{}, store.ErrNotFound
	}
	return evs[0], nil
}

// fetch runs a query returning (seq, uuid, published_ms, raw).
func (s *Store) fetch(ctx context.Context, sql string, args []any) ([]store.Event, error) {
	rows, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: query: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var ms int64
		var raw string
		if err := rows.Scan(&e.Seq, &e.UUID, &ms, &raw); err != nil {
			return nil, err
		}
		e.Published = time.UnixMilli(ms).UTC()
		e.Raw = json.RawMessage(raw)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteBefore implements store.Store. Rows are hidden at once by a
// tombstone (published < t and seq up to now) that every read applies, and
// the months that lie wholly before t are dropped (DROP PARTITION: instant,
// and it frees the disk). Rows of the month t falls in stay on disk, hidden,
// until a later cut passes that month's end. ALTER TABLE … DELETE is not
// used: on 18.16 it is an asynchronous mutation that rewrites every part of
// the table. Rows appended later are not covered by the tombstone, even with
// an old published time.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.readState(ctx)
	if err != nil {
		return 0, err
	}
	if err := s.checkSoleWriter(st); err != nil {
		return 0, err
	}
	cut := t.UnixMilli()
	where := join("AND", frag{"published_ms < ?", []any{cut}}, st.visible())
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.events+" WHERE "+where.sql, where.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse: delete: %w", err)
	}
	ts := addTombstone(st.tombstones, tombstone{T: cut, S: s.nextSeq - 1})
	b, _ := json.Marshal(ts)
	if err := s.writeState(ctx, "tombstones", string(b)); err != nil {
		return 0, err
	}
	if err := s.dropMonthsBefore(ctx, cut); err != nil {
		// The rows are hidden already; a later delete drops them.
		return int64(n), fmt.Errorf("clickhouse: delete: rows hidden but not yet removed: %w", err)
	}
	return int64(n), nil
}

// dropMonthsBefore drops, on every node, the partitions (months of
// published, UTC) that end at or before cut.
func (s *Store) dropMonthsBefore(ctx context.Context, cut int64) error {
	for _, node := range s.nodes {
		rows, err := node.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE active AND database = ? AND table = ?", s.db, unqualified(s.local))
		if err != nil {
			return err
		}
		var drop []uint32
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			ym, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				continue
			}
			y, m := int(ym/100), time.Month(ym%100)
			if time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() <= cut {
				drop = append(drop, uint32(ym))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// The tombstone already hides these months' postings and
		// rollup groups from reads; a month of postings goes whole,
		// count rows included.
		for _, table := range []string{s.local, s.postingsLocal, s.hourlyLocal} {
			for _, p := range drop {
				if err := node.Exec(ctx, "ALTER TABLE "+table+" DROP PARTITION ?", p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// addTombstone adds t and drops the tombstones it covers: one with an
// earlier-or-equal cut and a lower-or-equal seq hides nothing t does not.
// Retention deletes with a growing cut therefore keep a single tombstone.
func addTombstone(ts []tombstone, t tombstone) []tombstone {
	out := []tombstone{t}
	for _, o := range ts {
		if o.T <= t.T && o.S <= t.S {
			continue
		}
		out = append(out, o)
	}
	return out
}

// Stats implements store.Store. BytesOnDisk sums the active parts of the
// idlog tables on every node.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st, err := s.readState(ctx)
	if err != nil {
		return store.Stats{}, err
	}
	v := st.visible()
	var n uint64
	var lo, hi int64
	err = s.conn.QueryRow(ctx, "SELECT count(), min(published_ms), max(published_ms) FROM "+s.events+" WHERE "+v.sql, v.args...).Scan(&n, &lo, &hi)
	if err != nil {
		return store.Stats{}, fmt.Errorf("clickhouse: stats: %w", err)
	}
	out := store.Stats{Events: int64(n), MaxSeq: st.watermark, IndexMisses: s.indexMisses.Load()}
	if n > 0 {
		out.Oldest, out.Newest = time.UnixMilli(lo).UTC(), time.UnixMilli(hi).UTC()
	}
	for _, node := range s.nodes {
		var b uint64
		err := node.QueryRow(ctx, "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = ? AND table IN ('events', 'events_local', 'idlog_state', 'postings', 'postings_local', 'events_hourly', 'events_hourly_local')", s.db).Scan(&b)
		if err != nil {
			return out, fmt.Errorf("clickhouse: stats: %w", err)
		}
		out.BytesOnDisk += int64(b)
	}
	return out, nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	var errs []error
	for _, n := range s.nodes {
		if n != s.conn {
			errs = append(errs, n.Close())
		}
	}
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	return errors.Join(errs...)
}
