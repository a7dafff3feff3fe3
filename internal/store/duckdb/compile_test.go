package duckdb

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/filter"
)

var update = flag.Bool("update", false, "rewrite testdata/*.sql from the compiler's output")

// TestCompileGolden pins the SQL of each operator on each kind of path:
// a typed VARCHAR column, the target id list, a DOUBLE column, published and
// a path read from the JSON. Each file holds the filter, both bounds and the
// bound arguments; values never appear in the SQL text.
func TestCompileGolden(t *testing.T) {
	cases := []struct{ name, filter string }{
		{"eq_typed", `actor.id eq "00u1"`},
		{"ne_typed", `actor.id ne "00u1"`},
		{"co_typed", `client.ipAddress co "10.1"`},
		{"sw_typed", `eventType sw "user.session"`},
		{"ew_typed", `actor.alternateId ew "@example.com"`},
		{"pr_typed", `outcome.reason pr`},
		{"gt_typed", `eventType gt "user"`},
		{"ge_typed", `eventType ge "user"`},
		{"lt_typed", `eventType lt "user"`},
		{"le_typed", `eventType le "user"`},
		{"eq_null_typed", `outcome.reason eq null`},
		{"ne_null_typed", `outcome.reason ne null`},
		{"eq_number_on_string_column", `actor.id eq 5`},
		{"eq_list", `target.id eq "0oa1"`},
		{"co_list", `target.id co "0oa"`},
		{"pr_list", `target.id pr`},
		{"gt_number_column", `client.geographicalContext.geolocation.lat gt 40.5`},
		{"eq_published", `published eq "2026-03-01T00:00:00Z"`},
		{"gt_published", `published gt "2026-03-01T00:00:00.123Z"`},
		{"pr_published", `published pr`},
		{"eq_json", `debugContext.debugData.factor eq "OKTA_VERIFY_PUSH"`},
		{"co_json", `debugContext.debugData.url co "identify"`},
		{"eq_json_bool", `securityContext.isProxy eq true`},
		{"ge_json_number", `securityContext.asNumber ge 7922`},
		{"pr_json", `target.detailEntry pr`},
		{"not_and_or", `not (eventType eq "user.x") and (actor.id eq "00u9" or debugContext.debugData.factor sw "OKTA")`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := filter.Parse(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			c := &compiler{}
			got, err := c.expr(e)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "-- filter: %s\n-- up:\n%s\n-- lo:\n%s\n-- args:\n", tc.filter, got.up, got.lo)
			for i, a := range c.args {
				fmt.Fprintf(&b, "$%d = %#v\n", i+1, a)
			}
			for _, a := range c.args {
				if s, ok := a.(string); ok && strings.Contains(tc.filter, strconv.Quote(s)) && (strings.Contains(got.up, s) || strings.Contains(got.lo, s)) {
					t.Errorf("value %q is in the SQL text", s)
				}
			}
			file := filepath.Join("testdata", tc.name+".sql")
			if *update {
				os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("SQL changed for %s:\n got:\n%s\nwant:\n%s", tc.filter, b.String(), want)
			}
		})
	}
}
