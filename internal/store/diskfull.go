package store

import (
	"errors"
	"strings"
	"syscall"
)

// IsDiskFull reports whether err says the store's disk is full: the
// operating system's ENOSPC, or a backend's message for it (DuckDB passes
// the system's text on; ClickHouse names NOT_ENOUGH_SPACE). Such a failure
// is temporary for a client: nothing of the batch was stored, and it can
// be sent again once space is freed.
func IsDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"No space left on device", "Disk quota exceeded", "NOT_ENOUGH_SPACE", "not enough space"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
