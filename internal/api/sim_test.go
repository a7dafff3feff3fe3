package api_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/simulate"
)

// simEnd is where simulated test data ends; fixed so runs repeat.
var simEnd = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var simCache sync.Map

// simulated returns NDJSON of a simulated org (cached per size).
func simulated(t testing.TB, users, days int) []byte {
	t.Helper()
	key := [2]int{users, days}
	if b, ok := simCache.Load(key); ok {
		return b.([]byte)
	}
	b, err := simulate.NDJSON(simulate.Config{Users: users, Days: days, End: simEnd, Seed: 11, Attacks: true})
	if err != nil {
		t.Fatal(err)
	}
	simCache.Store(key, b)
	return b
}

// newSimEnv is a server whose store holds a simulated org, with the clock
// at the end of the data.
func newSimEnv(t *testing.T, users, days int) *env {
	t.Helper()
	e := newEnv(t, api.Options{Now: func() time.Time { return simEnd }})
	res, err := ingest.New(e.st, ingest.Options{}).Ingest(context.Background(), bytes.NewReader(simulated(t, users, days)), nil)
	if err != nil || res.RejectedCount != 0 || res.Accepted == 0 {
		t.Fatalf("loading simulated data: %+v %v", res, err)
	}
	return e
}
