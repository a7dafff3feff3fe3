package cursor

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func BenchmarkEncode(b *testing.B) {
	c, _ := NewCodec(bytes.Repeat([]byte{1}, 32), nil)
	cur := Cursor{Mode: Bounded, Filter: strings.Repeat(`(eventType eq "user.session.start") or `, 10) + `actor.id eq "00u1"`,
		Since: time.Now().Add(-time.Hour), Until: time.Now(), Limit: 100, HasPos: true, Published: time.Now(), Seq: 123456}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(cur); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	c, _ := NewCodec(bytes.Repeat([]byte{1}, 32), nil)
	cur := Cursor{Mode: Bounded, Filter: strings.Repeat(`(eventType eq "user.session.start") or `, 10) + `actor.id eq "00u1"`,
		Since: time.Now().Add(-time.Hour), Until: time.Now(), Limit: 100, HasPos: true, Published: time.Now(), Seq: 123456}
	s, _ := c.Encode(cur)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(s); err != nil {
			b.Fatal(err)
		}
	}
}
