package backup

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/idlog/idlog/internal/chtest"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
	"github.com/idlog/idlog/internal/storeurl"
)

// TestBackupClickHouse backs up a ClickHouse store (the export route) and
// restores it into a DuckDB store, event for event.
func TestBackupClickHouse(t *testing.T) {
	ctx := context.Background()
	dsn := chtest.StartServer(t)
	src, err := storeurl.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, ok := src.(store.Backuper); ok {
		t.Fatal("test premise: the ClickHouse store copies itself; test that route instead")
	}
	all := storetest.Synthetic(3000, 5)
	for i := 0; i < len(all); i += 500 {
		if _, err := src.Append(ctx, all[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "b")
	m, err := Make(ctx, src, dir, Options{Release: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Store != "export" || m.Events != 3000 || m.Seq < 3000 {
		t.Fatalf("manifest %+v", m)
	}
	dst, err := storeurl.Open(ctx, "duckdb:"+filepath.Join(t.TempDir(), "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := RestoreExport(dir, RestoreOptions{}, func(r io.Reader) error {
		_, err := ingest.New(dst, ingest.Options{}).Ingest(ctx, r, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := dst.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("restored %d events, stored %d", len(got), len(all))
	}
	for i, e := range got {
		if e.UUID != all[i].UUID || string(e.Raw) != string(all[i].Raw) {
			t.Fatalf("restored event %d is %s, want %s", i, e.UUID, all[i].UUID)
		}
	}
}
