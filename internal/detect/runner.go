package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// Runner runs an Engine on events as they are stored: it keeps the alerts
// in an AlertStore, posts new ones to a webhook, counts them for /metrics,
// and saves the engine's windows to a state file so a restart goes on
// where it stopped.
type Runner struct {
	eng       *Engine
	alerts    AlertStore
	statePath string
	webhook   *Webhook
	logf      func(format string, args ...any)

	mu        sync.Mutex
	counts    map[[2]string]int64 // rule, severity -> new alerts
	lastSaved time.Time

	// Stored batches wait in queue for the worker, so an import does not
	// wait for the rules (a second core runs them); pending counts the
	// batches not yet observed, for Flush.
	qmu     sync.Mutex
	queue   chan []store.Event
	closed  bool
	pending sync.WaitGroup
	done    chan struct{}
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// StatePath is where the engine's state is saved; "" keeps it in
	// memory only.
	StatePath string
	// Webhook, if set, gets every new alert.
	Webhook *Webhook
	// Logf reports problems that must not stop ingest (a webhook or an
	// alert store failing); default discards.
	Logf func(format string, args ...any)
}

// NewRunner returns a runner for rules, restoring the state file if there
// is one.
func NewRunner(rules []*Rule, alerts AlertStore, o RunnerOptions) (*Runner, error) {
	r := &Runner{eng: NewEngine(rules), alerts: alerts, statePath: o.StatePath, webhook: o.Webhook,
		logf: o.Logf, counts: map[[2]string]int64{}, lastSaved: time.Now()}
	if r.logf == nil {
		r.logf = func(string, ...any) {}
	}
	r.queue = make(chan []store.Event, 4)
	r.done = make(chan struct{})
	go r.work()
	if o.StatePath != "" {
		raw, err := os.ReadFile(o.StatePath)
		switch {
		case err == nil:
			if err := r.eng.Restore(raw); err != nil {
				return nil, fmt.Errorf("%s: %w", o.StatePath, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
	}
	return r, nil
}

func (r *Runner) work() {
	defer close(r.done)
	for b := range r.queue {
		if err := r.Observe(context.Background(), b); err != nil {
			r.logf("%v", err)
		}
		r.pending.Done()
	}
}

// enqueue hands a stored batch to the worker, copying the events' text
// (the caller may reuse it). It blocks while the queue is full, so rules
// that cannot keep up slow the import rather than fill memory.
func (r *Runner) enqueue(events []store.Event) {
	size := 0
	for _, e := range events {
		size += len(e.Raw)
	}
	buf := make([]byte, 0, size)
	cp := make([]store.Event, len(events))
	for i, e := range events {
		start := len(buf)
		buf = append(buf, e.Raw...)
		cp[i] = e
		cp[i].Raw = buf[start:len(buf):len(buf)]
	}
	r.qmu.Lock()
	if r.closed {
		r.qmu.Unlock()
		if err := r.Observe(context.Background(), cp); err != nil {
			r.logf("%v", err)
		}
		return
	}
	r.pending.Add(1)
	r.qmu.Unlock()
	r.queue <- cp
}

// Flush waits until every batch stored so far has been through the rules
// (or ctx ends).
func (r *Runner) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.pending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Engine returns the runner's engine.
func (r *Runner) Engine() *Engine { return r.eng }

// Alerts returns the runner's alert store, reading after the rules have
// seen every batch stored so far: an alert raised by a push is listed by
// the next read.
func (r *Runner) Alerts() AlertStore { return flushedAlerts{r.alerts, r} }

type flushedAlerts struct {
	AlertStore
	r *Runner
}

func (f flushedAlerts) List(ctx context.Context, q AlertQuery) ([]Alert, error) {
	if err := f.r.Flush(ctx); err != nil {
		return nil, err
	}
	return f.AlertStore.List(ctx, q)
}

func (f flushedAlerts) Get(ctx context.Context, id string) (Alert, error) {
	if err := f.r.Flush(ctx); err != nil {
		return Alert{}, err
	}
	return f.AlertStore.Get(ctx, id)
}

// Close is the runner's: the store closes with it.
func (f flushedAlerts) Close() error { return nil }

// Observe runs the rules on stored events and keeps the alerts they raise.
// Errors are the alert store's; the events are stored either way.
func (r *Runner) Observe(ctx context.Context, events []store.Event) error {
	changed := map[string]Alert{}
	for _, se := range events {
		ev, err := r.eng.Decode(se.Raw)
		if err != nil {
			continue // ingest validated it; nothing a rule could match
		}
		for _, a := range r.eng.Process(ev) {
			changed[a.ID] = a
		}
	}
	if len(changed) == 0 {
		r.maybeSave()
		return nil
	}
	list := make([]Alert, 0, len(changed))
	var fresh []Alert
	for _, a := range changed {
		if _, err := r.alerts.Get(ctx, a.ID); errors.Is(err, ErrNoAlert) {
			fresh = append(fresh, a)
		}
		list = append(list, a)
	}
	SortAlerts(list)
	if err := r.alerts.Save(ctx, list); err != nil {
		return fmt.Errorf("detect: saving alerts: %w", err)
	}
	r.mu.Lock()
	for _, a := range fresh {
		r.counts[[2]string{a.Rule, a.Severity}]++
	}
	r.mu.Unlock()
	if r.webhook != nil {
		for _, a := range fresh {
			r.webhook.Send(a)
		}
	}
	r.maybeSave()
	return nil
}

func (r *Runner) maybeSave() {
	r.mu.Lock()
	due := time.Since(r.lastSaved) > 10*time.Second
	if due {
		r.lastSaved = time.Now()
	}
	r.mu.Unlock()
	if due {
		if err := r.SaveState(); err != nil {
			r.logf("detect: saving state: %v", err)
		}
	}
}

// SaveState writes the engine's state to the state file (atomically).
func (r *Runner) SaveState() error {
	if r.statePath == "" {
		return nil
	}
	b, err := r.eng.Snapshot()
	if err != nil {
		return err
	}
	tmp := r.statePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.statePath)
}

// Close saves the state, stops the webhook (after its queue drains or
// ctx ends) and closes the alert store.
func (r *Runner) Close(ctx context.Context) error {
	r.qmu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.qmu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	err := r.SaveState()
	if r.webhook != nil {
		r.webhook.Close(ctx)
	}
	if cerr := r.alerts.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteMetrics appends idlog_alerts_total{rule,severity} (new alerts since
// the process started) in Prometheus text format.
func (r *Runner) WriteMetrics(w io.Writer) {
	r.mu.Lock()
	keys := make([][2]string, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	fmt.Fprint(w, "# HELP idlog_alerts_total Alerts raised by detection rules since the server started.\n# TYPE idlog_alerts_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(w, "idlog_alerts_total{rule=%q,severity=%q} %d\n", k[0], k[1], r.counts[k])
	}
	r.mu.Unlock()
	if r.webhook != nil {
		r.webhook.writeMetrics(w)
	}
}

// Wrap returns st with Append (and AppendCheckpoint, when st has it)
// running the rules on each stored batch: the ingest pipeline and the
// collector write through it, so import, push, hooks and pull all raise
// alerts. Reads go to st unchanged.
func (r *Runner) Wrap(st store.Store) store.Store {
	s := &streamStore{Store: st, r: r}
	if cp, ok := st.(store.Checkpointer); ok {
		return &streamCheckpointStore{streamStore: s, cp: cp}
	}
	return s
}

type streamStore struct {
	store.Store
	r *Runner
}

func (s *streamStore) Append(ctx context.Context, events []store.Event) (store.AppendResult, error) {
	res, err := s.Store.Append(ctx, events)
	if err == nil {
		s.r.enqueue(events)
	}
	return res, err
}

type streamCheckpointStore struct {
	*streamStore
	cp store.Checkpointer
}

func (s *streamCheckpointStore) AppendCheckpoint(ctx context.Context, events []store.Event, key, value string) (store.AppendResult, error) {
	res, err := s.cp.AppendCheckpoint(ctx, events, key, value)
	if err == nil {
		s.r.enqueue(events)
	}
	return res, err
}

func (s *streamCheckpointStore) Checkpoint(ctx context.Context, key string) (string, error) {
	return s.cp.Checkpoint(ctx, key)
}

// Webhook posts each new alert as JSON to a URL, retrying failures with
// backoff. The body is the alert's fields plus "text", a one-line summary,
// so a Slack incoming webhook shows it as a message.
type Webhook struct {
	URL      string
	Client   *http.Client
	Attempts int           // default 5
	Backoff  time.Duration // first retry delay, doubled each time; default 1 s
	Logf     func(format string, args ...any)

	once    sync.Once
	queue   chan Alert
	done    chan struct{}
	mu      sync.Mutex
	sent    int64
	failed  int64
	stopped bool
}

func (h *Webhook) start() {
	h.once.Do(func() {
		if h.Client == nil {
			h.Client = &http.Client{Timeout: 10 * time.Second}
		}
		if h.Attempts <= 0 {
			h.Attempts = 5
		}
		if h.Backoff <= 0 {
			h.Backoff = time.Second
		}
		if h.Logf == nil {
			h.Logf = func(string, ...any) {}
		}
		h.queue = make(chan Alert, 1000)
		h.done = make(chan struct{})
		go h.loop()
	})
}

// Send queues an alert; when the queue is full the alert is dropped and
// counted as failed (it is in the alert store either way).
func (h *Webhook) Send(a Alert) {
	h.start()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	select {
	case h.queue <- a:
	default:
		h.failed++
		h.Logf("detect: webhook queue full; alert %s not sent", a.ID)
	}
}

// Close stops the webhook after its queue drains or ctx ends.
func (h *Webhook) Close(ctx context.Context) {
	h.start()
	h.mu.Lock()
	if !h.stopped {
		h.stopped = true
		close(h.queue)
	}
	h.mu.Unlock()
	select {
	case <-h.done:
	case <-ctx.Done():
	}
}

func (h *Webhook) loop() {
	defer close(h.done)
	for a := range h.queue {
		body, _ := json.Marshal(webhookBody(a))
		delay := h.Backoff
		var err error
		for i := 0; i < h.Attempts; i++ {
			if i > 0 {
				time.Sleep(delay)
				delay *= 2
			}
			if err = h.post(body); err == nil {
				break
			}
		}
		h.mu.Lock()
		if err == nil {
			h.sent++
		} else {
			h.failed++
		}
		h.mu.Unlock()
		if err != nil {
			h.Logf("detect: webhook: alert %s not delivered after %d attempts: %v", a.ID, h.Attempts, err)
		}
	}
}

func (h *Webhook) post(body []byte) error {
	resp, err := h.Client.Post(h.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func webhookBody(a Alert) map[string]any {
	b, _ := json.Marshal(a)
	var m map[string]any
	json.Unmarshal(b, &m)
	m["text"] = fmt.Sprintf("[idlog] %s alert: %s (%s), %d events from %s to %s", strings.ToUpper(a.Severity), a.Title, a.Group,
		a.Count, a.First.Format(time.RFC3339), a.Last.Format(time.RFC3339))
	return m
}

func (h *Webhook) writeMetrics(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP idlog_alert_webhook_total Alerts posted to the webhook, by result.\n# TYPE idlog_alert_webhook_total counter\n")
	fmt.Fprintf(w, "idlog_alert_webhook_total{result=\"sent\"} %d\nidlog_alert_webhook_total{result=\"failed\"} %d\n", h.sent, h.failed)
}
