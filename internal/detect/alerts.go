package detect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// AlertStore keeps alerts across restarts. Save merges an alert raised or
// extended by the engine with what is stored (an analyst's status and note
// stay); Update sets status and note.
type AlertStore interface {
	Save(ctx context.Context, alerts []Alert) error
	List(ctx context.Context, q AlertQuery) ([]Alert, error)
	Get(ctx context.Context, id string) (Alert, error)
	Update(ctx context.Context, id, status, note string, now time.Time) (Alert, error)
	Close() error
}

// ErrNoAlert is returned by Get and Update for an unknown id.
var ErrNoAlert = errors.New("detect: no such alert")

// AlertQuery selects alerts; zero fields select everything. Results are
// newest first (by Last, then id); After is the id of the last alert of the
// previous page.
type AlertQuery struct {
	Rule, Severity, Status string
	Since, Until           time.Time // on Last: Since <= Last < Until
	After                  string
	Limit                  int
}

// Match reports whether a satisfies q's conditions (paging aside).
func (q AlertQuery) Match(a Alert) bool {
	return (q.Rule == "" || a.Rule == q.Rule) && (q.Severity == "" || a.Severity == q.Severity) &&
		(q.Status == "" || a.Status == q.Status) &&
		(q.Since.IsZero() || !a.Last.Before(q.Since)) && (q.Until.IsZero() || a.Last.Before(q.Until))
}

// FileAlerts is an AlertStore in one append-only file of JSON lines (the
// latest line of an id wins), read whole at open. Alerts are few next to
// events — one per rule, group and dedup window — so memory is not the
// limit; the file is rewritten compactly at open when it has grown to more
// than twice its live size.
type FileAlerts struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	w      *bufio.Writer
	alerts map[string]*Alert
	lines  int
}

// OpenFileAlerts opens (or creates) the alert file at path.
func OpenFileAlerts(path string) (*FileAlerts, error) {
	fa := &FileAlerts{path: path, alerts: map[string]*Alert{}}
	if raw, err := os.ReadFile(path); err == nil {
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var a Alert
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				if i == strings.Count(string(raw), "\n") {
					break // a torn last line from a crash: the rest is whole
				}
				return nil, fmt.Errorf("detect: %s line %d: %w", path, i+1, err)
			}
			fa.alerts[a.ID] = &a
			fa.lines++
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if fa.lines > 2*len(fa.alerts)+100 {
		if err := fa.rewrite(); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fa.f, fa.w = f, bufio.NewWriter(f)
	return fa, nil
}

func (fa *FileAlerts) rewrite() error {
	tmp := fa.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, a := range fa.alerts {
		if err := enc.Encode(a); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fa.lines = len(fa.alerts)
	return os.Rename(tmp, filepath.Clean(fa.path))
}

func (fa *FileAlerts) write(a *Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	fa.w.Write(b)
	fa.w.WriteByte('\n')
	fa.lines++
	return nil
}

func (fa *FileAlerts) flush() error {
	if err := fa.w.Flush(); err != nil {
		return err
	}
	return fa.f.Sync()
}

func (fa *FileAlerts) Save(_ context.Context, alerts []Alert) error {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	for _, a := range alerts {
		a.UUIDs = slices.Clone(a.UUIDs)
		if old, ok := fa.alerts[a.ID]; ok {
			a.Status, a.Note = old.Status, old.Note
			if old.Status == StatusClosed && a.Count > old.Count {
				// New events after a close reopen the alert.
				a.Status = StatusOpen
			}
		}
		fa.alerts[a.ID] = &a
		if err := fa.write(&a); err != nil {
			return err
		}
	}
	return fa.flush()
}

func (fa *FileAlerts) List(_ context.Context, q AlertQuery) ([]Alert, error) {
	fa.mu.Lock()
	var out []Alert
	for _, a := range fa.alerts {
		if q.Match(*a) {
			out = append(out, *a)
		}
	}
	fa.mu.Unlock()
	SortAlerts(out)
	if q.After != "" {
		i := slices.IndexFunc(out, func(a Alert) bool { return a.ID == q.After })
		if i < 0 {
			return nil, fmt.Errorf("detect: after: no alert %q in this selection", q.After)
		}
		out = out[i+1:]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// SortAlerts orders alerts newest first: by Last, then id.
func SortAlerts(as []Alert) {
	slices.SortFunc(as, func(a, b Alert) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func (fa *FileAlerts) Get(_ context.Context, id string) (Alert, error) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	a, ok := fa.alerts[id]
	if !ok {
		return Alert{}, ErrNoAlert
	}
	return *a, nil
}

func (fa *FileAlerts) Update(_ context.Context, id, status, note string, now time.Time) (Alert, error) {
	switch status {
	case StatusOpen, StatusAcknowledged, StatusClosed:
	default:
		return Alert{}, fmt.Errorf("detect: status %q: want open, acknowledged or closed", status)
	}
	fa.mu.Lock()
	defer fa.mu.Unlock()
	a, ok := fa.alerts[id]
	if !ok {
		return Alert{}, ErrNoAlert
	}
	c := *a
	c.Status, c.Updated = status, now.UTC()
	if note != "" {
		c.Note = note
	}
	fa.alerts[id] = &c
	if err := fa.write(&c); err != nil {
		return Alert{}, err
	}
	return c, fa.flush()
}

func (fa *FileAlerts) Close() error {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	if fa.f == nil {
		return nil
	}
	err := fa.w.Flush()
	if cerr := fa.f.Close(); err == nil {
		err = cerr
	}
	fa.f = nil
	return err
}
