package duckdb

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// TestBackupUnderLoad takes backups while appends go on and checks that
// each holds exactly the events of seqs 1..Seq, every one intact.
func TestBackupUnderLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "events.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := storetest.Synthetic(6000, 3)
	if _, err := s.AppendCheckpoint(ctx, all[:1000], "next", "first"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; i < len(all); i += 100 {
			if _, err := s.Append(ctx, all[i:i+100]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var infos []store.BackupInfo
	var paths []string
	for i := range 3 {
		p := filepath.Join(dir, "backups", "b"+string(rune('0'+i))+".duckdb")
		info, err := s.Backup(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		infos, paths = append(infos, info), append(paths, p)
	}
	wg.Wait()
	if _, err := s.Backup(ctx, paths[0]); err == nil {
		t.Error("backup over an existing file succeeded")
	}
	bySeq := map[string]int64{}
	got, err := s.Query(ctx, store.Query{Order: store.BySeq})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		bySeq[e.UUID] = e.Seq
	}
	for i, p := range paths {
		info := infos[i]
		t.Logf("backup %d: %+v", i, info)
		if info.Seq < 1000 || info.Events != info.Seq {
			t.Errorf("backup %d: %+v", i, info)
		}
		read, err := ReadBackupInfo(p)
		if err != nil || read != info {
			t.Errorf("ReadBackupInfo = %+v, %v; Backup said %+v", read, err, info)
		}
		b, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := b.Query(ctx, store.Query{Order: store.BySeq})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(evs)) != info.Seq {
			t.Errorf("backup %d at seq %d holds %d events", i, info.Seq, len(evs))
		}
		for j, e := range evs {
			if e.Seq != int64(j+1) || bySeq[e.UUID] != e.Seq || string(e.Raw) != string(all[j].Raw) {
				t.Fatalf("backup %d: event %d is seq %d %s", i, j, e.Seq, e.UUID)
			}
		}
		if v, _ := b.Checkpoint(ctx, "next"); v != "first" {
			t.Errorf("backup %d: checkpoint %q", i, v)
		}
		if st, _ := b.Stats(ctx); st.MaxSeq != info.Seq {
			t.Errorf("backup %d: max seq %d, want %d", i, st.MaxSeq, info.Seq)
		}
		b.Close()
	}
}
