package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idlog/idlog/internal/store"
)

// ExportFile is the events of an export backup: NDJSON, gzipped, in seq
// order.
const ExportFile = "events.ndjson.gz"

// exportPage is how many events an export reads at a time.
const exportPage = 5000

// export writes every event with seq up to the store's highest into
// path, for a store that cannot copy itself (ClickHouse). Events are never
// changed once stored and get ever higher seqs, so the events up to that
// seq are the store as it was when the export began; only a retention
// prune running meanwhile can take some of the oldest away.
func export(ctx context.Context, st store.Store, path string) (store.BackupInfo, error) {
	var info store.BackupInfo
	stats, err := st.Stats(ctx)
	if err != nil {
		return info, err
	}
	info.Seq = stats.MaxSeq
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return info, err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	bw := bufio.NewWriterSize(zw, 1<<20)
	q := store.Query{Order: store.BySeq, Limit: exportPage}
	for {
		page, err := st.Query(ctx, q)
		if err != nil {
			return info, err
		}
		for _, e := range page {
			if e.Seq > info.Seq {
				break
			}
			bw.Write(e.Raw)
			bw.WriteByte('\n')
			info.Events++
		}
		if len(page) < q.Limit || page[len(page)-1].Seq >= info.Seq {
			break
		}
		q.After = &store.Position{Seq: page[len(page)-1].Seq}
	}
	if err := bw.Flush(); err != nil {
		return info, err
	}
	if err := zw.Close(); err != nil {
		return info, err
	}
	if err := f.Sync(); err != nil {
		return info, err
	}
	return info, f.Close()
}

// ExportPath is the events file of an export backup in dir, or "" when
// the backup in dir is a store copy.
func ExportPath(dir string, m Manifest) string {
	if m.Store != "export" {
		return ""
	}
	return filepath.Join(dir, ExportFile)
}

func exportErr(err error) error { return fmt.Errorf("exporting the events: %w", err) }
