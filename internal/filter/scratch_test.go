package filter

import "testing"

func TestScratch(t *testing.T) {
	for _, s := range []string{`display_message eqq "Create okta user"`, `actor.id eq "x" and not (target.id Eq "y" OR eventType sw "a\u00e9\ud83d\ude00")`, `a.`, `01`, `eventType eq 1.`, `emails[type eq "work"]`, `published gt "2026-03-02T00:00:00Z"`, `published gt "yesterday"`, `eventType co 1`, `(eventType eq "x"`, `eventType eq "x")`, `not`, ``, `x eq "\q"`} {
		e, err := Parse(s)
		if err != nil {
			t.Logf("%q -> %v\n%s", s, err, err.(*Error).Caret())
		} else {
			t.Logf("%q -> %s", s, e)
		}
	}
}
