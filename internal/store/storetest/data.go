package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/idlog/idlog/internal/store"
)

// Base is the published time of the first synthetic event.
var Base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var eventTypes = []string{
	"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify",
	"application.policy.sign_on.deny_access", "user.authentication.sso",
	"user.authentication.auth_via_mfa", "user.mfa.factor.activate",
	"system.push.send_factor_verify_push", "user.session.end", "user.authentication.slo",
	"user.account.reset_password", "user.account.update_password", "user.account.lock",
	"user.mfa.factor.deactivate", "user.account.privilege.grant",
}

var outcomes = []struct{ result, reason string }{
	{"SUCCESS", ""}, {"SUCCESS", ""}, {"SUCCESS", ""}, {"ALLOW", ""},
	{"FAILURE", "INVALID_CREDENTIALS"}, {"FAILURE", "VERIFICATION_ERROR"}, {"DENY", "LOCKED_OUT"}, {"CHALLENGE", ""},
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randID(r *rand.Rand, prefix string, n int) string {
	b := []byte(prefix)
	for range n {
		b = append(b, idChars[r.IntN(len(idChars))])
	}
	return string(b)
}

func uuidOf(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-11f0-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
}

// Synthetic returns n Okta-shaped events, deterministic for a seed, with
// published times ascending from Base. They stand in for the simulator's
// output where a test needs many plausible events.
func Synthetic(n int, seed int64) []store.Event {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	type user struct {
		id, login, name, ip, country, city string
		lat, lon                           float64
	}
	users := make([]user, 40)
	places := []struct {
		country, city string
		lat, lon      float64
	}{{"United States", "San Francisco", 37.7749, -122.4194}, {"Germany", "Berlin", 52.52, 13.405}, {"Brazil", "São Paulo", -23.5505, -46.6333}, {"Japan", "Tokyo", 35.6762, 139.6503}}
	for i := range users {
		pl := places[r.IntN(len(places))]
		users[i] = user{randID(r, "00u", 17), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("User %d", i),
			fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256)), pl.country, pl.city, pl.lat, pl.lon}
	}
	apps := []string{randID(r, "0oa", 17), randID(r, "0oa", 17), randID(r, "0oa", 17)}
	out := make([]store.Event, 0, n)
	t := Base
	var session string
	for i := range n {
		u := users[r.IntN(len(users))]
		if i%7 == 0 {
			session = randID(r, "idx", 22)
		}
		// Some events share a timestamp with the previous one.
		if r.IntN(5) != 0 {
			t = t.Add(time.Duration(r.IntN(90_000)) * time.Millisecond)
		}
		oc := outcomes[r.IntN(len(outcomes))]
		var reason any
		if oc.reason != "" {
			reason = oc.reason
		}
		targets := []any{}
		switch r.IntN(4) {
		case 1:
			targets = append(targets, map[string]any{"id": apps[r.IntN(len(apps))], "type": "AppInstance", "alternateId": "Salesforce", "displayName": "Salesforce.com", "detailEntry": nil})
		case 2:
			v := users[r.IntN(len(users))]
			targets = append(targets, map[string]any{"id": v.id, "type": "User", "alternateId": v.login, "displayName": v.name},
				map[string]any{"id": randID(r, "pfd", 17), "type": "AuthenticatorEnrollment", "alternateId": "unknown", "displayName": "Password",
					"detailEntry": map[string]any{"methodTypeUsed": "Password", "methodUsedVerifiedProperties": "[POSSESSION]"}})
		case 3:
			if r.IntN(3) == 0 {
				targets = nil
			}
		}
		ev := map[string]any{
			"uuid":            uuidOf(r),
			"published":       t.Format("2006-01-02T15:04:05.000Z"),
			"eventType":       eventTypes[r.IntN(len(eventTypes))],
			"version":         "0",
			"severity":        []string{"INFO", "INFO", "WARN", "DEBUG"}[r.IntN(4)],
			"legacyEventType": "core.user_auth.login_success",
			"displayMessage":  "User login to Okta",
			"actor":           map[string]any{"id": u.id, "type": "User", "alternateId": u.login, "displayName": u.name, "detailEntry": nil},
			"client": map[string]any{
				"userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36", "os": "Mac OS X", "browser": "CHROME"},
				"zone":      "null", "device": "Computer", "id": nil, "ipAddress": u.ip,
				"geographicalContext": map[string]any{"city": u.city, "state": "CA", "country": u.country, "postalCode": "94107",
					"geolocation": map[string]any{"lat": u.lat, "lon": u.lon}},
			},
			"device":      nil,
			"outcome":     map[string]any{"result": oc.result, "reason": reason},
			"target":      targets,
			"transaction": map[string]any{"type": "WEB", "id": randID(r, "", 27), "detail": map[string]any{}},
			"debugContext": map[string]any{"debugData": map[string]any{
				"requestId": randID(r, "", 27), "requestUri": []string{"/idp/idx/identify", "/api/v1/authn", "/login/do-login"}[r.IntN(3)],
				"dtHash": fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()), "threatSuspected": []string{"false", "true"}[r.IntN(2)],
				"url": "/idp/idx/identify?", "behaviors": "{New Geo-Location=NEGATIVE, New Device=POSITIVE}",
				"risk": "{level=LOW}", "factor": []string{"OKTA_VERIFY_PUSH", "PASSWORD"}[r.IntN(2)],
			}},
			"authenticationContext": map[string]any{"authenticationStep": 0, "externalSessionId": session, "rootSessionId": session,
				"interface": nil, "credentialType": nil},
			"securityContext": map[string]any{"asNumber": 7922 + r.IntN(3), "asOrg": "comcast", "isp": "comcast", "domain": "comcast.net", "isProxy": r.IntN(8) == 0},
			"request":         map[string]any{"ipChain": []any{map[string]any{"ip": u.ip, "version": "V4"}}},
		}
		out = append(out, mustEvent(ev))
	}
	return out
}

func mustEvent(ev map[string]any) store.Event {
	raw, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return rawEvent(string(raw))
}

// rawEvent builds a store.Event from JSON text, reading uuid and published.
func rawEvent(raw string) store.Event {
	var head struct {
		UUID      string `json:"uuid"`
		Published string `json:"published"`
	}
	if err := json.Unmarshal([]byte(raw), &head); err != nil {
		panic(fmt.Sprintf("%v: %s", err, raw))
	}
	t, err := time.Parse(time.RFC3339Nano, head.Published)
	if err != nil {
		panic(err)
	}
	return store.Event{UUID: head.UUID, Published: t, Raw: json.RawMessage(raw)}
}

// EdgeCases are hand-written events that probe what synthetic data does not:
// unicode, escapes, null against missing, empty and repeated targets, nested
// arrays, odd shapes on typed paths, and timestamps equal to or before the
// synthetic ones.
func EdgeCases() []store.Event {
	raws := []string{
		`{"uuid":"edge-unicode","published":"2026-03-01T00:00:00.000Z","eventType":"user.session.start","displayMessage":"Überprüfung – 認証 ✓","actor":{"id":"00uÜnï","alternateId":"josé@exämple.com","displayName":"José Ñúñez"},"outcome":{"result":"SUCCESS","reason":null},"target":[],"client":{"ipAddress":"2001:db8::1","geographicalContext":{"country":"Österreich","city":"Wien","geolocation":{"lat":48.2082,"lon":16.3738}}}}`,
		`{"uuid":"edge-quotes","published":"2026-03-01T00:00:00.000Z","eventType":"user.account.update_password","displayMessage":"He said \"hi\" \\ path C:\\temp\\new","actor":{"id":"00u\"q\\","alternateId":"a\\b@example.com"},"outcome":{"result":"FAILURE","reason":"quote \" and \\ backslash"},"target":[{"id":"t\"1","type":"User"}],"debugContext":{"debugData":{"requestUri":"/x?a=\"1\"&b=\\2","url":"\u003cscript\u003e"}}}`,
		`{"uuid":"edge-nulls","published":"2026-03-01T00:00:01.000Z","eventType":"user.session.end","actor":{"id":null,"alternateId":"","displayName":null},"outcome":null,"target":null,"client":{"ipAddress":null,"geographicalContext":null},"authenticationContext":{"externalSessionId":null,"rootSessionId":""},"transaction":{"id":""}}`,
		`{"uuid":"edge-missing","published":"2026-03-01T00:00:02.000Z","eventType":"system.org.rate_limit.warning"}`,
		`{"uuid":"edge-targets","published":"2026-03-01T00:00:02.000Z","eventType":"group.user_membership.add","actor":{"id":"00uadmin","type":"User"},"target":[{"id":"00utarget1","type":"User","alternateId":"t1@example.com"},{"id":"00gGroup","type":"UserGroup","alternateId":"unknown"},{"id":"00utarget1","type":"User"},{"type":"NoId"},{"id":null},{"id":""}],"outcome":{"result":"SUCCESS"}}`,
		`{"uuid":"edge-nested","published":"2026-03-01T00:00:03.000Z","eventType":"security.threat.detected","severity":"WARN","debugContext":{"debugData":{"n":5,"f":2.5,"neg":-3,"exp":1e3,"big":12345678901234567890,"b":true,"bf":false,"s5":"5","arr":[1,"x",[2,"y",[3]],{"k":"v"},null,true],"obj":{"deep":[{"k":"w"},{"k":["z",7]}]},"threatSuspected":"false","empty":[],"emptyObj":{}}},"securityContext":{"isProxy":true,"asNumber":7922}}`,
		`{"uuid":"edge-odd-types","published":"2026-03-01T00:00:04.000Z","eventType":["user.session.start","user.session.end"],"actor":{"id":12345,"alternateId":true},"target":[{"id":1},{"id":"00umixed"}],"outcome":{"result":["SUCCESS"]},"client":{"ipAddress":"10.0.0.1","geographicalContext":{"geolocation":{"lat":"48.2","lon":[1,2]}}}}`,
		`{"uuid":"edge-actor-array","published":"2026-03-01T00:00:04.000Z","eventType":"user.session.start","actor":[{"id":"00ufirst"},{"id":"00usecond"}],"client":[{"ipAddress":"10.9.9.9"},{"ipAddress":"10.9.9.8"}]}`,
		`{"uuid":"edge-dotted-key","published":"2026-03-01T00:00:05.000Z","eventType":"user.session.start","debugContext":{"debugData":{"a.b":"dotted","a":{"b":"real"},"x[0]":"bracket"}}}`,
		`{"uuid":"edge-late","published":"2026-02-28T23:59:59.999Z","eventType":"user.session.start","actor":{"id":"00ulate","alternateId":"late@example.com"},"outcome":{"result":"SUCCESS"},"displayMessage":"XOxBw-2JIRnCFd0gG0GjHAAABjY login"}`,
		`{"uuid":"edge-published-mismatch","published":"2026-03-01T00:00:06.123456Z","eventType":"user.session.start","debugContext":{"debugData":{"requestUri":"/idp/idx/identify","url":"/idp/idx/identify?stateToken=abc"}}}`,
		`{"uuid":"edge-case","published":"2026-03-01T00:00:07.000Z","eventType":"User.Session.Start","actor":{"id":"00UCASE","alternateId":"MiXeD@Example.COM"},"outcome":{"result":"success"}}`,
		`{"uuid":"edge-dup-keys","published":"2026-03-01T00:00:09.000Z","eventType":"user.session.start","debugContext":{"debugData":{"k":"first","k":"second","requestUri":"/a","requestUri":"/b"}}}`,
		`{"uuid":"edge-kelvin","published":"2026-03-01T00:00:08.000Z","eventType":"user.session.start","displayMessage":"\u212a-value temp","actor":{"alternateId":"ǅ@x.io"}}`,
	}
	out := make([]store.Event, len(raws))
	for i, r := range raws {
		out[i] = rawEvent(r)
	}
	return out
}
