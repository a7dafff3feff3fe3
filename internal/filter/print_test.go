package filter

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/seed/*.golden from the parser's output")

// dump prints e as an indented tree with the byte range of every node, the
// form the golden files hold.
func dump(e Expr) string {
	var b strings.Builder
	var rec func(e Expr, depth int)
	rec = func(e Expr, depth int) {
		ind := strings.Repeat("  ", depth)
		switch e := e.(type) {
		case *Logical:
			op := "or"
			if e.And {
				op = "and"
			}
			fmt.Fprintf(&b, "%sLogical %s [%d:%d]\n", ind, op, e.Pos(), e.End())
			rec(e.Left, depth+1)
			rec(e.Right, depth+1)
		case *Not:
			fmt.Fprintf(&b, "%sNot [%d:%d]\n", ind, e.Pos(), e.End())
			rec(e.X, depth+1)
		case *Paren:
			fmt.Fprintf(&b, "%sParen [%d:%d]\n", ind, e.Pos(), e.End())
			rec(e.X, depth+1)
		case *Compare:
			fmt.Fprintf(&b, "%sCompare [%d:%d] path=%s [%d:%d] op=%s @%d", ind, e.From, e.To, e.Path, e.From, e.PathEnd, e.Op, e.OpPos)
			if e.Op != OpPr {
				fmt.Fprintf(&b, " value=%s @%d", e.Value, e.ValPos)
			}
			b.WriteByte('\n')
		default:
			fmt.Fprintf(&b, "%s%T\n", ind, e)
		}
	}
	rec(e, 0)
	return b.String()
}

// shape prints e without positions and without Paren nodes: two trees with
// the same shape mean the same filter.
func shape(e Expr) string {
	switch e := Unparen(e).(type) {
	case *Logical:
		op := "or"
		if e.And {
			op = "and"
		}
		return op + "(" + shape(e.Left) + ", " + shape(e.Right) + ")"
	case *Not:
		return "not(" + shape(e.X) + ")"
	case *Compare:
		return fmt.Sprintf("{%q %s %d:%q/%v/%v/%v}", []string(e.Path), e.Op, e.Value.Kind, e.Value.Str, e.Value.Num, e.Value.Bool, e.Value.Text)
	}
	return fmt.Sprintf("%T", e)
}

func TestSeedGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/seed/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 11 {
		t.Fatalf("found %d seed queries, want 11 (10 queries and the share link)", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Parse(string(src))
			if err != nil {
				t.Fatalf("seed query does not parse: %v\n%s", err, err.(*Error).Caret())
			}
			got := dump(e)
			golden := strings.TrimSuffix(f, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("AST differs from %s (run with -update if the change is intended):\n%s", golden, got)
			}
			checkPositions(t, string(src), e)
			again, err := Parse(e.String())
			if err != nil {
				t.Fatalf("String() does not reparse: %v\n%s", err, e)
			}
			if shape(again) != shape(e) {
				t.Errorf("String() reparses to another tree:\n got %s\nwant %s", shape(again), shape(e))
			}
		})
	}
}

// checkPositions checks that every node's range lies in src and that each
// comparison's range starts with its path as written.
func checkPositions(t *testing.T, src string, e Expr) {
	t.Helper()
	Walk(e, func(x Expr) bool {
		if x.Pos() < 0 || x.End() > Pos(len(src)) || x.Pos() >= x.End() {
			t.Errorf("node %s has range [%d:%d] outside the input (len %d)", x, x.Pos(), x.End(), len(src))
			return false
		}
		switch x := x.(type) {
		case *Compare:
			if got := src[x.From:x.PathEnd]; got != x.Path.String() {
				t.Errorf("path range [%d:%d] holds %q, want %q", x.From, x.PathEnd, got, x.Path)
			}
			if got := strings.ToLower(src[x.OpPos : x.OpPos+2]); got != string(x.Op) && (got != "in" || x.Op != OpEq) {
				t.Errorf("operator at %d is %q, want %q", x.OpPos, got, x.Op)
			}
		case *Paren:
			inList := src[x.To-1] == ']' && strings.Contains(strings.ToLower(src[x.From:x.To]), " in ")
			if (src[x.From] != '(' || src[x.To-1] != ')') && !inList {
				t.Errorf("paren range [%d:%d] is %q", x.From, x.To, src[x.From:x.To])
			}
		case *Not:
			if !strings.EqualFold(src[x.From:x.From+3], "not") {
				t.Errorf("not at %d is %q", x.From, src[x.From:x.From+3])
			}
		}
		return true
	})
}

// TestSeedVerbatim checks the seed queries against the source document when
// it is present (it lives outside the repository): each must appear in it
// character for character, and share_link.txt must be its share link's
// search parameter, decoded.
func TestSeedVerbatim(t *testing.T) {
	doc, err := os.ReadFile("../../../shared/seed/000_91bef5db34cbad62.txt")
	if err != nil {
		t.Skip("seed document not present:", err)
	}
	files, _ := filepath.Glob("testdata/seed/*.txt")
	for _, f := range files {
		q, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "share_link.txt" {
			s := string(doc)
			i := strings.Index(s, "?search=")
			j := strings.Index(s, "&fromTime=")
			if i < 0 || j < i {
				t.Fatal("share link not found in the seed document")
			}
			dec, err := url.QueryUnescape(s[i+len("?search=") : j])
			if err != nil {
				t.Fatal(err)
			}
			if dec != string(q) {
				t.Errorf("%s is not the decoded search parameter", f)
			}
			continue
		}
		if !strings.Contains(string(doc), string(q)) {
			t.Errorf("%s does not appear verbatim in the seed document", f)
		}
	}
}
