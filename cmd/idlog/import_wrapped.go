package main

import (
	"io"

	"github.com/idlog/idlog/internal/collect"
)

// unwrapLogEvents lets import read what Okta's push exports write as well as
// plain LogEvents: Amazon EventBridge records of Log Streaming (the LogEvent
// in "detail", one record a line or an array) and saved event-hook
// deliveries (the LogEvents in "data.events"). Plain input passes through
// unchanged. Rejection line numbers then count the unwrapped events, one a
// line.
func unwrapLogEvents(r io.Reader) (io.Reader, error) {
	u, _, err := collect.Unwrap(r)
	return u, err
}
