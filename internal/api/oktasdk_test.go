package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

// oktaClient points Okta's Go SDK at the test server with an SSWS token.
func (e *env) oktaClient(token string) *okta.APIClient {
	e.t.Helper()
	cfg, err := okta.NewConfiguration(okta.WithOrgUrl(e.ts.URL), okta.WithToken(token),
		okta.WithTestingDisableHttpsCheck(true), okta.WithCache(false))
	if err != nil {
		e.t.Fatal(err)
	}
	// The SDK keeps only the host name of the org URL; put the port back.
	u, _ := url.Parse(e.ts.URL)
	cfg.Host = u.Host
	return okta.NewAPIClient(cfg)
}

// sdkCollect follows the SDK's own pagination (HasNextPage/Next) and
// checks every event, decoded by the SDK model, against the stored one.
func (e *env) sdkCollect(first []okta.LogEvent, resp *okta.APIResponse, err error, stopOnEmpty bool) []string {
	e.t.Helper()
	var ids []string
	page := first
	for pages := 0; ; pages++ {
		if err != nil {
			e.t.Fatalf("page %d: %v", pages, err)
		}
		if pages > 500 {
			e.t.Fatal("too many pages")
		}
		for _, ev := range page {
			stored, err := e.st.Get(context.Background(), ev.GetUuid())
			if err != nil {
				e.t.Fatalf("%s: %v", ev.GetUuid(), err)
			}
			var want okta.LogEvent
			if err := json.Unmarshal(stored.Raw, &want); err != nil {
				e.t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, want) {
				e.t.Fatalf("SDK event %s differs from the stored one", ev.GetUuid())
			}
			ids = append(ids, ev.GetUuid())
		}
		if !resp.HasNextPage() || (stopOnEmpty && len(page) == 0) {
			return ids
		}
		page = nil
		resp, err = resp.Next(&page)
	}
}

func TestOktaGoSDK(t *testing.T) {
	now := t0.Add(20 * 24 * time.Hour)
	e := newEnv(t, api.Options{Now: func() time.Time { return now }})
	e.add(genEvents(50, 400, t0, 10*24*time.Hour)...)
	c := e.oktaClient(e.read)
	ctx := context.Background()
	since, until := t0.Add(24*time.Hour), t0.Add(9*24*time.Hour)

	tests := []struct {
		name, filter, q string
		desc            bool
	}{
		{name: "all"},
		{name: "filter", filter: `eventType eq "user.session.start" or outcome.result eq "DENY"`},
		{name: "q", q: "CHALLENGE"},
		{name: "desc filter q", filter: `target.id sw "0oa0"`, q: "00u001", desc: true},
		{name: "long filter", filter: longFilter(4096)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := c.SystemLogAPI.ListLogEvents(ctx).Since(since).Until(until).Limit(7)
			if tc.filter != "" {
				req = req.Filter(tc.filter)
			}
			if tc.q != "" {
				req = req.Q(tc.q)
			}
			if tc.desc {
				req = req.SortOrder("DESCENDING")
			}
			page, resp, err := req.Execute()
			got := e.sdkCollect(page, resp, err, false)
			kws, _ := filter.ParseKeywords(tc.q)
			want := e.storeAnswer(store.Query{Filter: mustParse(t, tc.filter), Keywords: kws, Since: since, Until: until,
				Order: store.ByPublished, Descending: tc.desc})
			if len(want) < 8 && tc.name != "desc filter q" {
				t.Fatalf("only %d events: not several pages", len(want))
			}
			equalIDs(t, tc.name, got, want)
		})
	}

	t.Run("polling", func(t *testing.T) {
		page, resp, err := c.SystemLogAPI.ListLogEvents(ctx).Since(t0).Limit(7).Execute()
		got := e.sdkCollect(page, resp, err, true)
		want := e.storeAnswer(store.Query{Since: t0, Order: store.BySeq})
		equalIDs(t, "polling", got, want)
	})

	t.Run("errors reach the SDK", func(t *testing.T) {
		_, resp, err := c.SystemLogAPI.ListLogEvents(ctx).Filter(`eventType eqq "x"`).Execute()
		if err == nil || resp == nil || resp.StatusCode != 400 {
			t.Fatalf("bad filter: %v", err)
		}
	})
}
