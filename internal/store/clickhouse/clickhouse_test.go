package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

var dbCounter atomic.Int64

// freshDB turns a DSN into one naming a database no other test uses.
func freshDB(dsn string) string {
	db := fmt.Sprintf("idlog_t%d", dbCounter.Add(1))
	base, query, _ := strings.Cut(dsn, "?")
	base = base[:strings.LastIndex(base, "/")+1] + db
	if query != "" {
		return base + "?" + query
	}
	return base
}

func opener(dsn string) storetest.Opener {
	return func(t *testing.T) store.Store {
		s, err := Open(context.Background(), freshDB(dsn))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		storetest.DifferentialFilters = 100
	}
	dsn := chtest.StartServer(t)
	storetest.Run(t, opener(dsn))
}

func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		storetest.DifferentialFilters = 100
	}
	c := chtest.StartCluster(t, 2)
	storetest.Run(t, opener(c.DSN("idlog_test")))
}
