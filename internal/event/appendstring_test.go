package event

import (
	"encoding/json"
	"testing"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "tab\tnew\nline\r", "\x00\x1f", "São Paulo", "Île-de-France", "O'Brien", "日本", "\u2028", "<&>"} {
		var back string
		b := AppendString(nil, s)
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("AppendString(%q) = %s: %v, back %q", s, b, err, back)
		}
	}
}
