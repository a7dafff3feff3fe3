package main

import (
	"io"
	"strings"
	"testing"
)

func TestUnwrapLogEvents(t *testing.T) {
	ev := `{"uuid":"a","published":"2026-01-01T00:00:00.000Z","eventType":"user.session.start"}`
	rec := `{"version":"0","id":"1","detail-type":"SystemLog","source":"aws.partner/okta.com/acme/idlog","detail":` + ev + `}`
	for in, want := range map[string]string{rec + "\n": ev + "\n", ev + "\n": ev + "\n"} {
		r, err := unwrapLogEvents(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		if string(b) != want {
			t.Errorf("unwrap(%s) = %s, want %s", in, b, want)
		}
	}
}
