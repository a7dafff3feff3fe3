package api

import (
	"bufio"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

// metrics keeps the counters /metrics exposes, in Prometheus' text format.
// It is small enough to write by hand; a client library would be the only
// dependency of the server.
type metrics struct {
	mu        sync.Mutex
	requests  map[routeCode]int64
	latencies map[string]*histogram
	accepted  int64
	dups      int64
	rejected  int64
}

type routeCode struct {
	route string
	code  int
}

// latencyBounds are the histogram's upper bounds, in seconds.
var latencyBounds = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

type histogram struct {
	counts []int64 // per bound, not cumulative; the last is +Inf
	sum    float64
	n      int64
}

func newMetrics() *metrics {
	return &metrics{requests: map[routeCode]int64{}, latencies: map[string]*histogram{}}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[routeCode{route, code}]++
	h := m.latencies[route]
	if h == nil {
		h = &histogram{counts: make([]int64, len(latencyBounds)+1)}
		m.latencies[route] = h
	}
	sec := d.Seconds()
	i := sort.SearchFloat64s(latencyBounds, sec)
	h.counts[i]++
	h.sum += sec
	h.n++
}

func (m *metrics) ingested(r IngestResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accepted += int64(r.Accepted)
	m.dups += int64(r.Duplicates)
	m.rejected += int64(r.RejectedCount)
}

// serveMetrics answers /metrics. It needs a token (any scope): the route
// names and counts say something about who uses the server.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.queryContext(r.Context())
	st, stErr := s.st.Stats(ctx)
	cancel()

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	b := bufio.NewWriter(w)
	m := s.metrics
	m.mu.Lock()
	fmt.Fprintln(b, "# HELP idlog_http_requests_total HTTP requests by route and status.")
	fmt.Fprintln(b, "# TYPE idlog_http_requests_total counter")
	keys := make([]routeCode, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	for _, k := range keys {
		fmt.Fprintf(b, "idlog_http_requests_total{route=%s,code=\"%d\"} %d\n", strconv.Quote(k.route), k.code, m.requests[k])
	}
	fmt.Fprintln(b, "# HELP idlog_http_request_duration_seconds Time to answer a request, by route.")
	fmt.Fprintln(b, "# TYPE idlog_http_request_duration_seconds histogram")
	routes := make([]string, 0, len(m.latencies))
	for r := range m.latencies {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, rt := range routes {
		h := m.latencies[rt]
		q := strconv.Quote(rt)
		var cum int64
		for i, le := range latencyBounds {
			cum += h.counts[i]
			fmt.Fprintf(b, "idlog_http_request_duration_seconds_bucket{route=%s,le=\"%g\"} %d\n", q, le, cum)
		}
		fmt.Fprintf(b, "idlog_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", q, h.n)
		fmt.Fprintf(b, "idlog_http_request_duration_seconds_sum{route=%s} %g\n", q, h.sum)
		fmt.Fprintf(b, "idlog_http_request_duration_seconds_count{route=%s} %d\n", q, h.n)
	}
	fmt.Fprintln(b, "# HELP idlog_ingest_events_total Events received by POST /api/v1/logs, by outcome.")
	fmt.Fprintln(b, "# TYPE idlog_ingest_events_total counter")
	fmt.Fprintf(b, "idlog_ingest_events_total{result=\"accepted\"} %d\n", m.accepted)
	fmt.Fprintf(b, "idlog_ingest_events_total{result=\"duplicate\"} %d\n", m.dups)
	fmt.Fprintf(b, "idlog_ingest_events_total{result=\"rejected\"} %d\n", m.rejected)
	m.mu.Unlock()

	if stErr == nil {
		fmt.Fprintln(b, "# HELP idlog_store_events Events in the store.")
		fmt.Fprintln(b, "# TYPE idlog_store_events gauge")
		fmt.Fprintf(b, "idlog_store_events %d\n", st.Events)
		fmt.Fprintln(b, "# HELP idlog_store_bytes Bytes the store takes on disk.")
		fmt.Fprintln(b, "# TYPE idlog_store_bytes gauge")
		fmt.Fprintf(b, "idlog_store_bytes %d\n", st.BytesOnDisk)
		fmt.Fprintln(b, "# HELP idlog_store_max_seq Highest ingest sequence number.")
		fmt.Fprintln(b, "# TYPE idlog_store_max_seq gauge")
		fmt.Fprintf(b, "idlog_store_max_seq %d\n", st.MaxSeq)
		fmt.Fprintln(b, "# HELP idlog_store_cache_events_total Events a page needed, by whether the store's cache of events read held them.")
		fmt.Fprintln(b, "# TYPE idlog_store_cache_events_total counter")
		fmt.Fprintf(b, "idlog_store_cache_events_total{result=\"hit\"} %d\n", st.CacheHits)
		fmt.Fprintf(b, "idlog_store_cache_events_total{result=\"miss\"} %d\n", st.CacheMisses)
		fmt.Fprintln(b, "# HELP idlog_store_index_misses_total Rows an index or key table of the store failed to return and a read past it found (any value above 0 means damage; answers stayed complete).")
		fmt.Fprintln(b, "# TYPE idlog_store_index_misses_total counter")
		fmt.Fprintf(b, "idlog_store_index_misses_total %d\n", st.IndexMisses)
		fmt.Fprintln(b, "# HELP idlog_store_repairs_total Rebuilds of a damaged index or key table since the store was opened.")
		fmt.Fprintln(b, "# TYPE idlog_store_repairs_total counter")
		fmt.Fprintf(b, "idlog_store_repairs_total %d\n", st.Repairs)
	} else {
		s.log.Warn("metrics: store stats failed", "err", stErr)
	}
	if s.opts.ExtraMetrics != nil {
		s.opts.ExtraMetrics(b)
	}
	fmt.Fprintln(b, "# HELP go_goroutines Number of goroutines.")
	fmt.Fprintln(b, "# TYPE go_goroutines gauge")
	fmt.Fprintf(b, "go_goroutines %d\n", runtime.NumGoroutine())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintln(b, "# HELP go_memstats_heap_inuse_bytes Heap bytes in use.")
	fmt.Fprintln(b, "# TYPE go_memstats_heap_inuse_bytes gauge")
	fmt.Fprintf(b, "go_memstats_heap_inuse_bytes %d\n", ms.HeapInuse)
	return b.Flush()
}
