package flows

import (
	"context"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestLiveStartStatus: Start builds the index in the background; Status
// reports the build's progress and then ready, with every event read, and
// the first funnel after it comes from the index.
func TestLiveStartStatus(t *testing.T) {
	ctx := context.Background()
	st, err := storeurl.Open(ctx, "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var all []store.Event
	err = simulate.New(simulate.Config{Users: 30, Days: 3, Seed: 2,
		End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}).Run(func(raw []byte) error {
		e, err := FromRaw(raw)
		if err != nil {
			return err
		}
		all = append(all, store.Event{UUID: e.UUID, Published: e.Time(), Raw: append([]byte(nil), raw...)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, all); err != nil {
		t.Fatal(err)
	}
	l := NewLive(st)
	if s := l.Status(); s.Ready || s.Building {
		t.Fatalf("before Start: %+v", s)
	}
	l.Start()
	l.Start() // a second call starts nothing more
	var s LiveStatus
	deadline := time.Now().Add(30 * time.Second)
	for s = l.Status(); !s.Ready && time.Now().Before(deadline); s = l.Status() {
		if !s.Building || s.Read > s.Total && s.Total > 0 {
			t.Fatalf("while building: %+v", s)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !s.Ready || s.Building || s.Read != int64(len(all)) || s.Total != int64(len(all)) {
		t.Fatalf("after the build: %+v, want ready with %d of %d read", s, len(all), len(all))
	}
	if _, err := l.Funnel(ctx, "signin", time.Time{}, time.Now(), ""); err != nil {
		t.Errorf("funnel after Start: %v (want it from the index)", err)
	}
}
