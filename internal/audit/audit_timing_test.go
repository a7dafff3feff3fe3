package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/filter"
)

// BenchmarkFind scans a trail of 100,000 records (about a year of a
// 20-person team's searches) with a filter that matches a few of them:
// every audit read pays one such scan per page.
func BenchmarkFind(b *testing.B) {
	l := Open(b.TempDir())
	p := &auth.Principal{ID: "00u1", Name: "alice@example.com", Kind: "user", Role: auth.RoleAnalyst}
	// Written in one go: Record syncs each line, which is right for a
	// trail and slow for building a test file.
	var buf bytes.Buffer
	for i := 0; i < 100000; i++ {
		e := Entry{EventType: Search, Actor: p, Addr: "10.0.0.1", UserAgent: "Mozilla/5.0", Debug: map[string]any{"filter": fmt.Sprintf(`actor.id eq "00u%d"`, i)}}
		if i%1000 == 0 {
			e.EventType = Export
		}
		line, _ := json.Marshal(l.Event(e))
		buf.Write(append(line, '\n'))
	}
	if err := os.WriteFile(l.Path(), buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.Logf("trail: %d records, %d bytes", 100000, buf.Len())
	f, _ := filter.Parse(`eventType eq "idlog.log.export"`)
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			res, err := l.Find(Query{Filter: f, Limit: 1000})
			if err != nil || len(res.Events) != 100 {
				b.Fatalf("%d events, %v", len(res.Events), err)
			}
		}
	})
	// The Audit view's default: the last 7 days, here none of the trail.
	b.Run("recent", func(b *testing.B) {
		since := time.Now().Add(time.Hour)
		for i := 0; i < b.N; i++ {
			res, err := l.Find(Query{Filter: f, Since: since, Limit: 1000})
			if err != nil || len(res.Events) != 0 {
				b.Fatalf("%d events, %v", len(res.Events), err)
			}
		}
	})
}
