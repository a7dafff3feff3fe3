package duckdb

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/storetest"
)

// The rows come from the walked nodes; these tests hold them to what the
// decoded tree (filter.DecodeJSON, encoding/json underneath) gives, with the
// tree-walking code the rows were made with before the walker.

// projectRef computes the typed columns from the decoded tree.
func projectRef(doc any) (vals []any, odd uint64) {
	vals = make([]any, len(columns))
	for i, c := range columns {
		rs := filter.Resolve(doc, columnPaths[i])
		switch c.kind {
		case kString:
			if len(rs) == 0 {
				continue
			}
			s, ok := rs[0].(string)
			if len(rs) != 1 || !ok {
				odd |= 1 << i
				continue
			}
			vals[i] = s
		case kNumber:
			if len(rs) == 0 {
				continue
			}
			f, ok := toFloat(rs[0])
			if len(rs) != 1 || !ok {
				odd |= 1 << i
				continue
			}
			vals[i] = f
		case kStringList:
			list := make([]string, 0, len(rs))
			for _, r := range rs {
				s, ok := r.(string)
				if !ok {
					odd |= 1 << i
					list = nil
					break
				}
				list = append(list, s)
			}
			if list != nil {
				vals[i] = list
			}
		}
	}
	return vals, odd
}

func arrayPathsRef(v any, key string, set map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, el := range x {
			p := k
			if key != "" {
				p = key + "." + k
			}
			arrayPathsRef(el, p, set)
		}
	case []any:
		set[key] = true
		for _, el := range x {
			if _, ok := el.([]any); ok {
				arrayPathsRef(el, key+"[]", set)
			} else {
				arrayPathsRef(el, key, set)
			}
		}
	}
}

func oddKeysRef(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, el := range x {
			if oddKey(k) || oddKeysRef(el) {
				return true
			}
		}
	case []any:
		for _, el := range x {
			if oddKeysRef(el) {
				return true
			}
		}
	}
	return false
}

// dupKeysRef reports an object with a repeated key anywhere in the (valid)
// JSON text, keys compared as written unless escaped.
func dupKeysRef(b []byte) bool {
	var stack [][][]byte
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{':
			stack = append(stack, [][]byte{})
		case '[':
			stack = append(stack, nil)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			k := j + 1
			for k < len(b) && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
				k++
			}
			if k < len(b) && b[k] == ':' && len(stack) > 0 && stack[len(stack)-1] != nil {
				key := b[i+1 : min(j, len(b))]
				if bytes.IndexByte(key, '\\') >= 0 {
					var u string
					if json.Unmarshal(b[i:min(j+1, len(b))], &u) == nil {
						key = []byte(u)
					}
				}
				top := stack[len(stack)-1]
				for _, seen := range top {
					if bytes.Equal(seen, key) {
						return true
					}
				}
				stack[len(stack)-1] = append(top, key)
			}
			i = j
		}
	}
	return false
}

func publishedAgreesRef(doc any, pub time.Time) bool {
	rs := filter.Resolve(doc, filter.Path{"published"})
	if len(rs) != 1 {
		return false
	}
	s, ok := rs[0].(string)
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && t.UnixMilli() == pub.UnixMilli()
}

// checkRow prepares text as a row and compares what the row holds with the
// reference on the decoded tree.
func checkRow(t *testing.T, text string) {
	t.Helper()
	doc, werr := filter.DecodeJSON([]byte(text))
	pub := time.UnixMilli(1700000000123).UTC()
	rows := make([]row, 1)
	err := prepareInto(rows, []store.Event{{UUID: "u1", Published: pub, Raw: json.RawMessage(text)}}, 0)
	_, isObj := doc.(map[string]any)
	if (err == nil) != (werr == nil && isObj) {
		t.Fatalf("prepareInto(%q) error %v; encoding/json says %v", text, err, werr)
	}
	if err != nil {
		return
	}
	r := rows[0]
	wantCols, wantOdd := projectRef(doc)
	d, _ := event.Walk([]byte(text))
	gotCols, gotOdd := project(d)
	if !reflect.DeepEqual(gotCols, wantCols) && !nanEqual(gotCols, wantCols) || gotOdd != wantOdd {
		t.Fatalf("%q: columns %#v odd %b, want %#v odd %b", text, gotCols, gotOdd, wantCols, wantOdd)
	}
	set := map[string]bool{}
	arrayPathsRef(doc, "", set)
	var wantArrays []string
	for k := range set {
		wantArrays = append(wantArrays, k)
	}
	slices.Sort(wantArrays)
	if !slices.Equal(r.arrays, wantArrays) {
		t.Fatalf("%q: arrays %q, want %q", text, r.arrays, wantArrays)
	}
	dup := dupKeysRef([]byte(text))
	wantRowOdd := wantOdd != 0 || !publishedAgreesRef(doc, pub) || oddKeysRef(doc) || dup
	if r.layout == "" {
		wantRowOdd = true
	}
	if r.odd != wantRowOdd || r.idxOdd != (wantOdd&indexedMask != 0 || dup) || r.kwplain != plainText(text) {
		t.Fatalf("%q: odd %v idxOdd %v kwplain %v", text, r.odd, r.idxOdd, r.kwplain)
	}
	if r.layout != "" {
		// The row rebuilds to the text (compact inputs only: members are kept
		// as written, the top level is written compact).
		var c bytes.Buffer
		if json.Compact(&c, []byte(text)); c.String() == text {
			got, err := rebuild(rowValues(r))
			if err != nil || got != text {
				t.Fatalf("%q rebuilds as %q, %v", text, got, err)
			}
		}
	}
}

func nanEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		fa, ok1 := a[i].(float64)
		fb, ok2 := b[i].(float64)
		if ok1 && ok2 && math.IsNaN(fa) && math.IsNaN(fb) {
			continue
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// rowValues lays a row out as rebuild reads rawColumns.
func rowValues(r row) []any {
	v := []any{r.layout, r.rest, r.uuid, r.published}
	v = append(v, r.members...)
	var items any
	if r.items != nil {
		l := make([]any, len(r.items))
		for i, s := range r.items {
			l[i] = s
		}
		items = l
	}
	v = append(v, items, r.targetIDs)
	for i, c := range columns {
		if c.kind == kString {
			v = append(v, r.cols[i])
		}
	}
	return v
}

var rowCases = []string{
	`{}`, `[]`, `{"a":1,"a":2}`, `{"a":[1,2.5,-0.1e+3,true,false,null,"x"]}`,
	`{"a":"\u00e9\"\\","b":"é"}`, "{\"a\":\"\xff\"}", `{"\u0061":1,"a":2}`, `{"a" : { "b" : [ ] } }`,
	`{"a":01}`, `{"a":1,}`, `{"a":1} x`, `"s"`, `{"n":123456789012345678901234567890}`,
	`{"a":{"b":1,"b":2}}`, `{"a":[{"b":1},{"b":2}]}`, "{\"\xff\":1,\"\xfe\":2}", `{"a.b":1}`, `{"":1}`,
	`{"a":{"x$":1}}`, `{"a":[{"b*":1}]}`, `{"a\u0001":1}`, `{"a\\":1}`, `{"x\\":1,"x":2}`,
	`{"uuid":"u1","published":"2023-11-14T22:13:20.123Z","eventType":"user.session.start","actor":{"id":"00u1","type":"User","alternateId":"a@example.com","displayName":"A"},"client":{"ipAddress":"10.0.0.1","geographicalContext":{"city":"Oslo","geolocation":{"lat":59.9,"lon":10.7}}},"target":[{"id":"0oa1","type":"AppInstance"},{"id":"00u2","type":"User","alternateId":"a@example.com"}],"request":{"ipChain":[{"ip":"10.0.0.1"}]}}`,
	`{"uuid":"u1","published":"2023-11-14T22:13:20.123Z","actor":{"id":"x","id":"y"},"target":[{"id":"1"},{"ID":"2"}]}`,
	`{"uuid":"u1","published":"2023-11-14T22:13:20.124Z","target":[[{"id":"1"}],{"id":["a","b"]}],"client":{"geographicalContext":{"geolocation":{"lat":"x","lon":1e400}}}}`,
	`{"uuid":"u1","target":{"id":"t"},"outcome":{"result":["a"]},"debugContext":{"debugData":{"requestUri":null}}}`,
	`{"published":"2023-11-14T22:13:20.123Z","published":"x"}`, `{"other":1}`, `{"uuid":"\u0001u"}`,
}

func TestPrepareAgrees(t *testing.T) {
	for _, c := range rowCases {
		checkRow(t, c)
	}
}

// FuzzPrepare holds rows made from the walked nodes to the decoded tree.
func FuzzPrepare(f *testing.F) {
	for _, c := range rowCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkRow(t, s)
	})
}

// TestStartAppendInOrder: batches started one after the other without
// waiting are stored in the order started (a uuid in both is stored from the
// first and counted as a duplicate in the second), with the counts Append
// gives.
func TestStartAppendInOrder(t *testing.T) {
	evs := storetest.Synthetic(300, 7)
	for _, tc := range []struct {
		name    string
		batches [][2]int // event ranges, started in this order
	}{
		{"overlapping", [][2]int{{0, 140}, {100, 200}}},
		{"three, last inside the first", [][2]int{{0, 170}, {170, 300}, {30, 70}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "events.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			var waits []func() (store.AppendResult, error)
			for _, b := range tc.batches {
				w, err := s.StartAppend(ctx, evs[b[0]:b[1]])
				if err != nil {
					t.Fatal(err)
				}
				waits = append(waits, w)
			}
			firstIn := map[string]int{} // uuid → the batch it is new in
			for k, b := range tc.batches {
				want := store.AppendResult{}
				for _, e := range evs[b[0]:b[1]] {
					if _, seen := firstIn[e.UUID]; seen {
						want.Duplicates++
					} else {
						firstIn[e.UUID] = k
						want.Added++
					}
				}
				got, err := waits[k]()
				if err != nil || got != want {
					t.Errorf("batch %d: %+v, %v; want %+v", k, got, err, want)
				}
			}
			// Seqs follow the start order: a batch's new events come after
			// every event of the batches started before it.
			maxSeq := make([]int64, len(tc.batches))
			minSeq := make([]int64, len(tc.batches))
			for u, k := range firstIn {
				e, err := s.Get(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				if minSeq[k] == 0 || e.Seq < minSeq[k] {
					minSeq[k] = e.Seq
				}
				maxSeq[k] = max(maxSeq[k], e.Seq)
			}
			for k := 1; k < len(tc.batches); k++ {
				if minSeq[k] <= maxSeq[k-1] && minSeq[k] != 0 {
					t.Errorf("batch %d's events start at seq %d, before batch %d's end %d", k, minSeq[k], k-1, maxSeq[k-1])
				}
			}
		})
	}
}
