package timeparse

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "2026-03-02T14:05:09Z", want: time.Date(2026, 3, 2, 14, 5, 9, 0, time.UTC)},
		{in: "2026-03-02T14:05:09.123Z", want: time.Date(2026, 3, 2, 14, 5, 9, 123e6, time.UTC)},
		{in: "2026-03-02T14:05:09.123456789Z", want: time.Date(2026, 3, 2, 14, 5, 9, 123456789, time.UTC)},
		{in: "2026-03-02T16:05:09+02:00", want: time.Date(2026, 3, 2, 14, 5, 9, 0, time.UTC)},
		{in: "2026-03-02T09:05:09.5-05:00", want: time.Date(2026, 3, 2, 14, 5, 9, 5e8, time.UTC)},
		{in: "2026-03-02", want: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{in: " 2026-03-02 ", want: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{in: "now", want: now},
		{in: "NOW", want: now},
		{in: "-15m", want: now.Add(-15 * time.Minute)},
		{in: "-24h", want: now.Add(-24 * time.Hour)},
		{in: "-7d", want: now.AddDate(0, 0, -7)},
		{in: "-90d", want: now.Add(-90 * 24 * time.Hour)},
		{in: "-30s", want: now.Add(-30 * time.Second)},
		{in: "-2w", want: now.Add(-14 * 24 * time.Hour)},
		{in: "+1h", want: now.Add(time.Hour)},
		{in: "", wantErr: "empty time"},
		{in: "-", wantErr: "is incomplete"},
		{in: "-7", wantErr: "is incomplete"},
		{in: "-7y", wantErr: `unknown unit "y"`},
		{in: "-1.5h", wantErr: "no whole number"},
		{in: "--5m", wantErr: "no whole number"},
		{in: "-999999999w", wantErr: "over 100 years"},
		{in: "yesterday", wantErr: `time "yesterday" not understood`},
		{in: "2026-03-02 14:05", wantErr: "not understood"},
		{in: "2026-02-30", wantErr: "not understood"},
		{in: "2026-03-02T14:05:09", wantErr: "not understood"}, // RFC 3339 needs a zone
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, now)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
