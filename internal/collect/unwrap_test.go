package collect

import (
	"io"
	"strings"
	"testing"
)

func TestUnwrap(t *testing.T) {
	ev1 := `{"uuid":"a","published":"2026-01-01T00:00:00.000Z","eventType":"user.session.start"}`
	ev2 := `{"uuid":"b","published":"2026-01-01T00:00:01.000Z","eventType":"user.session.end"}`
	eb := func(ev string) string {
		return `{"version":"0","id":"x","detail-type":"SystemLog","source":"aws.partner/okta.com/acme/idlog","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":` + ev + `}`
	}
	hook := `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://acme.okta.com/api/v1/eventHooks/who1","eventId":"e1","data":{"events":[` + ev1 + `,` + ev2 + `]},"eventTime":"2026-01-01T00:00:02.000Z","contentType":"application/json"}`
	tests := []struct {
		name, in string
		want     Wrapping
		out      string
	}{
		{"plain NDJSON passes through", ev1 + "\n" + ev2 + "\n", Plain, ev1 + "\n" + ev2 + "\n"},
		{"plain array passes through", "[" + ev1 + "," + ev2 + "]", Plain, "[" + ev1 + "," + ev2 + "]"},
		{"EventBridge NDJSON", eb(ev1) + "\n" + eb(ev2) + "\n", EventBridge, ev1 + "\n" + ev2 + "\n"},
		{"EventBridge array with spaces", "  [\n" + eb(ev1) + " ,\n " + eb(ev2) + "]\n", EventBridge, ev1 + "\n" + ev2 + "\n"},
		{"event hook deliveries", hook + "\n" + hook, EventHook, ev1 + "\n" + ev2 + "\n" + ev1 + "\n" + ev2 + "\n"},
		{"empty", "", Plain, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := Unwrap(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if w != tc.want {
				t.Errorf("wrapping %q, want %q", w, tc.want)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.out {
				t.Errorf("got\n%s\nwant\n%s", b, tc.out)
			}
		})
	}
	t.Run("broken record", func(t *testing.T) {
		r, _, err := Unwrap(strings.NewReader(eb(ev1) + "\n" + `{"detail-type":"SystemLog","detail":{`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "record 2") {
			t.Errorf("err = %v, want one naming record 2", err)
		}
	})
}
