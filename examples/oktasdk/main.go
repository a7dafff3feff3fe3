// Command oktasdk lists failed sign-ins of the last week from an idlog
// server with Okta's own Go SDK, unchanged but for the org URL: the proof
// that scripts written for Okta's System Log run against idlog.
//
//	TOKEN=idl_… go run ./examples/oktasdk -org http://127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

func main() {
	org := flag.String("org", "http://127.0.0.1:8080", "idlog's URL (an Okta org URL works the same)")
	filter := flag.String("filter", `eventType eq "user.session.start" and outcome.result eq "FAILURE"`, "System Log filter")
	since := flag.Duration("since", 7*24*time.Hour, "how far back to look")
	flag.Parse()
	n, err := list(*org, os.Getenv("TOKEN"), *filter, time.Now().Add(-*since), time.Now(), os.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%d events\n", n)
}

// list prints every matching event, one line each, following the SDK's
// next links, and says how many it printed.
func list(org, token, filter string, since, until time.Time, w io.Writer) (int, error) {
	cfg, err := okta.NewConfiguration(okta.WithOrgUrl(org), okta.WithToken(token),
		okta.WithTestingDisableHttpsCheck(true), okta.WithCache(false))
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(org)
	if err != nil {
		return 0, err
	}
	cfg.Host = u.Host // the SDK keeps only the host name otherwise, and loses the port

	client := okta.NewAPIClient(cfg)
	events, resp, err := client.SystemLogAPI.ListLogEvents(context.Background()).
		Since(since).Until(until).Filter(filter).Limit(100).Execute()
	n := 0
	for err == nil {
		for _, e := range events {
			n++
			fmt.Fprintln(w, e.GetPublished().UTC().Format(time.RFC3339), e.GetUuid(), e.GetEventType(), e.Actor.GetAlternateId())
		}
		if !resp.HasNextPage() {
			break
		}
		events = nil
		resp, err = resp.Next(&events)
	}
	return n, err
}
