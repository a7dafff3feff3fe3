package backup

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
	"github.com/idlog/idlog/internal/storeurl"
)

// plain hides a store's optional interfaces: a store that cannot copy
// itself, as ClickHouse.
type plain struct{ store.Store }

// TestExportUnderLoad backs up a store without store.Backuper (the export
// route ClickHouse takes) while appends go on, and restores the export
// into a new store: it holds exactly the events up to the seq named.
func TestExportUnderLoad(t *testing.T) {
	ctx := context.Background()
	open := func() store.Store {
		st, err := storeurl.Open(ctx, "duckdb:"+filepath.Join(t.TempDir(), "events.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	src := open()
	all := storetest.Synthetic(20000, 11)
	if _, err := src.Append(ctx, all[:2000]); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "tokens.json"), []byte(`{"tokens":[]}`), 0o600)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 2000; i < len(all); i += 200 {
			if _, err := src.Append(ctx, all[i:i+200]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dir := filepath.Join(t.TempDir(), "b")
	m, err := Make(ctx, plain{src}, dir, Options{DataDir: data, Release: "test"})
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("export at seq %d: %d events", m.Seq, m.Events)
	if m.Store != "export" || m.Seq < 2000 || m.Events != m.Seq {
		t.Fatalf("manifest %+v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, StoreFile)); err == nil {
		t.Error("an export backup holds a store file")
	}
	dst := open()
	restoredData := t.TempDir()
	var res ingest.Result
	if _, err := RestoreExport(dir, RestoreOptions{DataDir: restoredData}, func(r io.Reader) error {
		res, err = ingest.New(dst, ingest.Options{}).Ingest(ctx, r, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if int64(res.Accepted) != m.Events {
		t.Errorf("restored %d events, the backup lists %d", res.Accepted, m.Events)
	}
	got, err := dst.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		if e.UUID != all[i].UUID || string(e.Raw) != string(all[i].Raw) {
			t.Fatalf("restored event %d is %s, want %s", i, e.UUID, all[i].UUID)
		}
	}
	if _, err := os.Stat(filepath.Join(restoredData, "tokens.json")); err != nil {
		t.Errorf("the data files were not restored: %v", err)
	}
	// A damaged export is refused before anything is imported.
	f := filepath.Join(dir, ExportFile)
	b, _ := os.ReadFile(f)
	b[len(b)/2] ^= 1
	os.WriteFile(f, b, 0o600)
	if _, err := RestoreExport(dir, RestoreOptions{}, func(io.Reader) error { t.Error("imported a damaged export"); return nil }); err == nil {
		t.Error("a damaged export was restored")
	}
}
