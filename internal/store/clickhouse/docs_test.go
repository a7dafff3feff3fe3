package clickhouse

import (
	"os"
	"strings"
	"testing"
)

// TestDocsShowTheSchema keeps docs/clickhouse.md's DDL in step with the
// code: every statement Open runs (single node and cluster) must appear
// there verbatim.
func TestDocsShowTheSchema(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/clickhouse.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{{db: "idlog"}, {db: "idlog", cluster: "prod"}} {
		s.setNames()
		for _, stmt := range append(s.DDL(), "CREATE TABLE IF NOT EXISTS "+s.state+stateDDL) {
			if !strings.Contains(string(doc), stmt) {
				t.Errorf("docs/clickhouse.md does not show:\n%s", stmt)
			}
		}
	}
}
