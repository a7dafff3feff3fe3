package duckdb

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/idlog/idlog/internal/store"
)

// TestProjectShortScanIsAnError: when a chunk's scan yields fewer rows than
// its count (here the scan is made to skip rows; in life a damaged index
// or a bug would), Project fails with store.ErrDamaged and hands over no
// event of that chunk, so a replay never runs its rules over a short range.
func TestProjectShortScanIsAnError(t *testing.T) {
	s, evs := bloomStore(t, 3000)
	// Chunks of ~256 rows, so that the range is read in a dozen chunks
	// and the ones before the damage are handed over.
	oldChunk := projectChunk
	projectChunk = 256
	defer func() { projectChunk = oldChunk }()
	ctx := context.Background()
	q := store.Query{Order: store.ByPublished}
	members := []string{"eventType", "actor", "client"}

	var full []int64
	if err := s.Project(ctx, q, members, func(e store.Event) error {
		full = append(full, e.Seq)
		return nil
	}); err != nil {
		t.Fatalf("undamaged read: %v", err)
	}
	if len(full) != len(evs) {
		t.Fatalf("undamaged read handed over %d events, want %d", len(full), len(evs))
	}

	for _, tc := range []struct {
		name   string
		skip   string // SQL that drops rows from the scan only
		lostAt int    // how many events precede the first chunk with a loss, at least
	}{
		{"one row lost", " AND seq <> " + strconv.FormatInt(full[len(full)/2], 10), len(full) / 4},
		{"every seventh row lost", " AND seq % 7 <> 3", 0},
		{"the whole range lost", " AND false", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := testHookProjectScan
			testHookProjectScan = func() string { return tc.skip }
			defer func() { testHookProjectScan = old }()

			var got []store.Event
			err := s.Project(ctx, q, members, func(e store.Event) error {
				got = append(got, e)
				return nil
			})
			if !errors.Is(err, store.ErrDamaged) {
				t.Fatalf("err = %v, want store.ErrDamaged", err)
			}
			// What was handed over before the failing chunk is whole and
			// in order: a prefix of the undamaged read.
			seqs := make([]int64, len(got))
			for i, e := range got {
				seqs[i] = e.Seq
			}
			if len(seqs) >= len(full) || !slices.Equal(seqs, full[:len(seqs)]) {
				t.Errorf("handed over %d events that are not a strict prefix of the %d undamaged ones", len(seqs), len(full))
			}
			if len(seqs) < tc.lostAt {
				t.Errorf("handed over %d events, want the chunks before the loss (at least %d)", len(seqs), tc.lostAt)
			}
		})
	}
}
