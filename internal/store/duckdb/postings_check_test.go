package duckdb

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// dropEntry deletes the first entry of the given kind from the index, as
// damage would.
func dropEntry(p *postings, kind byte) error {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kind}, UpperBound: []byte{kind + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	if !it.First() {
		return fmt.Errorf("no entry of kind %c", kind)
	}
	return p.db.Delete(it.Key(), pebble.NoSync)
}
