package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// oktaLike returns n Okta-shaped events of about 1.8 KB each, as NDJSON.
func oktaLike(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"actor":{"id":"00u%08x","type":"User","alternateId":"user%d@example.com","displayName":"User %d","detailEntry":null},`+
			`"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","os":"Mac OS X","browser":"CHROME"},"zone":"null","device":"Computer","id":null,"ipAddress":"203.0.113.%d","geographicalContext":{"city":"Paris","state":"Ile-de-France","country":"France","postalCode":"75001","geolocation":{"lat":48.86,"lon":2.35}}},`+
			`"device":null,"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"102%016x"},`+
			`"displayMessage":"User login to Okta","eventType":"user.session.start","outcome":{"result":"SUCCESS","reason":null},"published":"%s","securityContext":{"asNumber":64496,"asOrg":"example","isp":"example","domain":"example.com","isProxy":false},`+
			`"severity":"INFO","debugContext":{"debugData":{"requestId":"%016x","requestUri":"/idp/idx/identify","url":"/idp/idx/identify?","dtHash":"%032x","threatSuspected":"false","behaviors":"{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}"}},`+
			`"legacyEventType":"core.user_auth.login_success","transaction":{"type":"WEB","id":"%016x","detail":{}},"uuid":"%08x-%04x-4%03x-8%03x-%012x","version":"0","request":{"ipChain":[{"ip":"203.0.113.%d","geographicalContext":{"city":"Paris","country":"France"},"version":"V4","source":null}]},"target":[{"id":"0oa%08x","type":"AppInstance","alternateId":"Example App","displayName":"Example App","detailEntry":null}]}`+"\n",
			rng.Uint32(), i%500, i%500, i%250, rng.Uint64(), t0.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05.000Z"),
			rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff, i%250, rng.Uint32())
	}
	return b.Bytes()
}

func benchDecode(b *testing.B, in []byte, events int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		n := 0
		err := Decode(bytes.NewReader(in), func(it Item) error {
			if it.Err != nil {
				return it.Err
			}
			n++
			return nil
		})
		if err != nil || n != events {
			b.Fatalf("decoded %d of %d: %v", n, events, err)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeNDJSON measures decode plus validation, the CPU cost every
// entry point pays before the store.
func BenchmarkDecodeNDJSON(b *testing.B) {
	const n = 20000
	benchDecode(b, oktaLike(n), n)
}

// BenchmarkDecodeArray is the same events as one Okta API page body.
func BenchmarkDecodeArray(b *testing.B) {
	const n = 20000
	nd := bytes.TrimSuffix(oktaLike(n), []byte("\n"))
	in := append(append([]byte("["), bytes.ReplaceAll(nd, []byte("\n"), []byte(","))...), ']')
	benchDecode(b, in, n)
}

// discardStore accepts everything, so the benchmark sees the pipeline alone.
type discardStore struct{ store.Store }

func (discardStore) Append(_ context.Context, ev []store.Event) (store.AppendResult, error) {
	return store.AppendResult{Added: len(ev)}, nil
}

func BenchmarkIngestPipeline(b *testing.B) {
	const n = 20000
	in := oktaLike(n)
	p := New(discardStore{}, Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		res, err := p.Ingest(context.Background(), io.NopCloser(bytes.NewReader(in)), nil)
		if err != nil || res.Accepted != n {
			b.Fatalf("accepted %d of %d: %v", res.Accepted, n, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
