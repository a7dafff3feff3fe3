package clickhouse_test

import (
	"context"
	"testing"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/clickhouse"
	"github.com/idlog/idlog/internal/store/storetest"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestOpenByURL: --store clickhouse://… reaches this package through the
// storeurl registry and gives a working store.
func TestOpenByURL(t *testing.T) {
	dsn := chtest.StartServer(t)
	ctx := context.Background()
	s, err := storeurl.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*clickhouse.Store); !ok {
		t.Fatalf("storeurl.Open(%q) gave a %T", dsn, s)
	}
	evs := storetest.Synthetic(10, 31)
	if res, err := s.Append(ctx, evs); err != nil || res.Added != 10 {
		t.Fatalf("append: %+v %v", res, err)
	}
	if n, err := s.Count(ctx, store.Query{}); err != nil || n != 10 {
		t.Fatalf("count: %d %v", n, err)
	}
}
