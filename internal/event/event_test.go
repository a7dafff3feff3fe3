package event

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// jsonEqual compares two documents as JSON values: objects as unordered
// member sets, numbers as float64, strings after unescaping.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("left is not JSON: %v\n%s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("right is not JSON: %v\n%s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

func roundTrip(t testing.TB, in []byte) []byte {
	t.Helper()
	e, err := Decode(in)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, in)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !jsonEqual(t, in, out) {
		t.Fatalf("round trip changed the event\n in: %s\nout: %s", in, out)
	}
	return out
}

func TestOktaSampleRoundTrip(t *testing.T) {
	in, err := os.ReadFile("testdata/okta-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, in)
	e, _ := Decode(in)
	// The typed view must see the documented fields, not only Extra.
	checks := []struct {
		name      string
		got, want any
	}{
		{"uuid", Str(e.UUID), "f1d0b993-cc19-11ed-a688-db22c99ef6c4"},
		{"eventType", Str(e.EventType), "user.session.start"},
		{"actor.id", Str(e.Actor.ID), "00uz9fj5aT69fHVro1d6"},
		{"client.ipAddress", Str(e.Client.IPAddress), "142.126.158.61"},
		{"client.zone", Str(e.Client.Zone), "null"},
		{"client.userAgent.browser", Str(e.Client.UserAgent.Browser), "CHROME"},
		{"geolocation.lat", *e.Client.GeographicalContext.Geolocation.Lat, 43.6567},
		{"target count", len(e.Target), 2},
		{"target[1].type", Str(e.Target[1].Type), "AppInstance"},
		{"transaction.detail", len(e.Transaction.Detail), 0},
		{"debugData.requestUri", e.DebugContext.DebugData["requestUri"], "/idp/idx/identify"},
		{"externalSessionId", Str(e.AuthenticationContext.ExternalSessionID), "idxyNcxVX2ESsSL0u462548Qg"},
		{"authenticationStep", *e.AuthenticationContext.AuthenticationStep, int64(0)},
		{"ipChain[0].version", Str(e.Request.IPChain[0].Version), "V4"},
		{"device is null", e.Device == nil && string(e.Extra["device"]) == "null", true},
		{"outcome.reason is null", e.Outcome.Reason == nil && string(e.Outcome.Extra["reason"]) == "null", true},
		{"no unknown members", len(e.Extra), 1}, // only device's null
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	ts, err := e.Time()
	if err != nil || ts.UnixMilli() != 1679864732159 {
		t.Errorf("Time() = %v, %v", ts, err)
	}
}

func TestRoundTripCases(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"empty object", `{}`},
		{"unknown top-level member", `{"uuid":"u1","eventType":"x","newField":{"a":[1,2,{"b":null}]}}`},
		{"unknown client sub-member", `{"client":{"ipAddress":"1.2.3.4","tlsVersion":"1.3","userAgent":{"os":"Linux","engine":"Blink"}}}`},
		{"unknown deep geolocation member", `{"client":{"geographicalContext":{"geolocation":{"lat":1.5,"lon":-2,"accuracy":30}}}}`},
		{"unknown in target element", `{"target":[{"id":"a","riskScore":7},{"id":"b"}]}`},
		{"unknown in ipChain and ipDetails", `{"request":{"ipChain":[{"ip":"::1","hop":1,"ipDetails":{"asNumber":1,"tier":"x"}}],"trace":true}}`},
		{"unknown in securityContext parts", `{"securityContext":{"risk":{"level":"HIGH","reasons":["a","b"],"score":0.9},"userBehaviors":[{"id":"1","name":"New IP","result":"POSITIVE","w":1}],"botProtection":{"level":"LOW","v":2}}}`},
		{"nulls everywhere", `{"uuid":null,"actor":null,"target":null,"client":{"id":null,"userAgent":null},"outcome":{"result":"SUCCESS","reason":null}}`},
		{"missing stays missing", `{"outcome":{"result":"SUCCESS"}}`},
		{"empty array and object", `{"target":[],"transaction":{"detail":{}},"request":{"ipChain":[]}}`},
		{"unicode", `{"displayMessage":"Connexion réussie — 登录 🚀","actor":{"displayName":"Zoë \u00e9\ud83d\ude80 \"quoted\" \\ back"}}`},
		{"html characters", `{"displayMessage":"<b>&amp;</b>"}`},
		{"wrong type for known member", `{"uuid":42,"client":{"geographicalContext":{"geolocation":{"lat":"north"}}},"securityContext":{"asNumber":1.5,"isProxy":"no"}}`},
		{"null element in array", `{"target":[null,{"id":"x"}],"securityContext":{"risk":{"reasons":["a",null]}}}`},
		{"object where string expected", `{"eventType":{"x":1},"actor":"someone"}`},
		{"big numbers in debugData", `{"debugContext":{"debugData":{"n":12345678901234567890,"f":1e300,"s":"false"}}}`},
		{"snake_case device", `{"device":{"id":"d1","os_platform":"IOS","managed":true,"device_integrator":{"k":"v"},"screen_lock_type":"BIOMETRIC","secure_hardware_present":false,"extra_key":1}}`},
		{"change details", `{"target":[{"id":"p","changeDetails":{"from":{"a":1},"to":null,"note":"x"}}]}`},
		{"duplicate key last wins", `{"uuid":"a","uuid":"b","x":1,"x":2}`},
		{"escaped key names a known member", `{"\u0075uid":"u"}`},
		{"case differs from known member", `{"UUID":"upper","Actor":{"ID":"x"}}`},
		{"authentication context", `{"authenticationContext":{"authenticationStep":0,"rootSessionId":"102abc","issuer":{"id":"i","type":"t","z":1},"interface":null}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, []byte(c.in))
		})
	}
}

func TestNullAndMissingAreDistinct(t *testing.T) {
	for _, in := range []string{`{"outcome":{"reason":null}}`, `{"outcome":{}}`} {
		out := roundTrip(t, []byte(in))
		if got, want := strings.Contains(string(out), "reason"), strings.Contains(in, "reason"); got != want {
			t.Errorf("%s -> %s: reason present %v, want %v", in, out, got, want)
		}
	}
}

func TestTypedFieldWinsOverRememberedNull(t *testing.T) {
	e, err := Decode([]byte(`{"outcome":{"result":"SUCCESS","reason":null},"target":null}`))
	if err != nil {
		t.Fatal(err)
	}
	e.Outcome.Reason = Ptr("INVALID_CREDENTIALS")
	e.Target = []Target{{ID: Ptr("00u1")}}
	out, _ := json.Marshal(e)
	want := `{"outcome":{"result":"SUCCESS","reason":"INVALID_CREDENTIALS"},"target":[{"id":"00u1"}]}`
	if !jsonEqual(t, out, []byte(want)) {
		t.Errorf("got %s, want %s", out, want)
	}
}

func TestSetNull(t *testing.T) {
	e := &LogEvent{EventType: Ptr("user.session.start"), Outcome: &Outcome{Result: Ptr("SUCCESS")}}
	SetNull(&e.Outcome.Extra, "reason")
	SetNull(&e.Extra, "device")
	out, _ := json.Marshal(e)
	want := `{"eventType":"user.session.start","device":null,"outcome":{"result":"SUCCESS","reason":null}}`
	if !jsonEqual(t, out, []byte(want)) {
		t.Errorf("got %s, want %s", out, want)
	}
}

func TestDecodeRejectsNonObjects(t *testing.T) {
	for _, in := range []string{``, `null`, `[]`, `"x"`, `42`, `{"a":}`, `{"a":1} {}`, `{"a":1`} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) succeeded, want an error", in)
		}
	}
}

func TestDecodeReusesNothing(t *testing.T) {
	// UnmarshalJSON into a used value must not keep old fields.
	var e LogEvent
	if err := json.Unmarshal([]byte(`{"uuid":"a","k":1}`), &e); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"eventType":"b"}`), &e); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(e)
	if !jsonEqual(t, out, []byte(`{"eventType":"b"}`)) {
		t.Errorf("got %s", out)
	}
}

func names[T any](c *structCodec[T]) (reflect.Type, []string) {
	var out []string
	for _, f := range c.fields {
		out = append(out, f.name)
	}
	return reflect.TypeFor[T](), out
}

// The member tables must list exactly the struct's json-tagged fields, in
// order, and every such field must be able to say "absent".
func TestTablesMatchStructs(t *testing.T) {
	type table = func() (reflect.Type, []string)
	for _, tb := range []table{
		func() (reflect.Type, []string) { return names(eventCodec) },
		func() (reflect.Type, []string) { return names(actorCodec) },
		func() (reflect.Type, []string) { return names(clientCodec) },
		func() (reflect.Type, []string) { return names(userAgentCodec) },
		func() (reflect.Type, []string) { return names(geographicalContextCodec) },
		func() (reflect.Type, []string) { return names(geolocationCodec) },
		func() (reflect.Type, []string) { return names(deviceCodec) },
		func() (reflect.Type, []string) { return names(outcomeCodec) },
		func() (reflect.Type, []string) { return names(targetCodec) },
		func() (reflect.Type, []string) { return names(changeDetailsCodec) },
		func() (reflect.Type, []string) { return names(transactionCodec) },
		func() (reflect.Type, []string) { return names(debugContextCodec) },
		func() (reflect.Type, []string) { return names(authenticationContextCodec) },
		func() (reflect.Type, []string) { return names(issuerCodec) },
		func() (reflect.Type, []string) { return names(securityContextCodec) },
		func() (reflect.Type, []string) { return names(ipDetailsCodec) },
		func() (reflect.Type, []string) { return names(ipServiceCategoryCodec) },
		func() (reflect.Type, []string) { return names(riskCodec) },
		func() (reflect.Type, []string) { return names(userBehaviorCodec) },
		func() (reflect.Type, []string) { return names(botProtectionCodec) },
		func() (reflect.Type, []string) { return names(requestCodec) },
		func() (reflect.Type, []string) { return names(ipChainEntryCodec) },
	} {
		typ, got := tb()
		var want []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			want = append(want, tag)
			switch f.Type.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map:
			default:
				t.Errorf("%s.%s is a %s; it cannot represent a missing member", typ.Name(), f.Name, f.Type)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: table %v, struct %v", typ.Name(), got, want)
		}
	}
}

// Every documented field, set, lands in its typed field (so the json names
// in the model are right), and nothing is left in any Extra.
func TestFullEventTypedAccess(t *testing.T) {
	in, err := os.ReadFile("testdata/full-event.json")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, in)
	e, _ := Decode(in)
	sc := e.SecurityContext
	checks := []struct {
		name      string
		got, want any
	}{
		{"severity", Str(e.Severity), "INFO"},
		{"legacyEventType", Str(e.LegacyEventType), "core.user.factor.attempt_success"},
		{"actor.alternateId", Str(e.Actor.AlternateID), "zoë@example.com"},
		{"actor.detailEntry", e.Actor.DetailEntry["department"], "Finance"},
		{"client.id", Str(e.Client.ID), "0oa1client"},
		{"client.device", Str(e.Client.Device), "Computer"},
		{"geo.city", Str(e.Client.GeographicalContext.City), "São Paulo"},
		{"geo.lon", *e.Client.GeographicalContext.Geolocation.Lon, -46.6333},
		{"device.os_platform", Str(e.Device.OSPlatform), "LINUX"},
		{"device.managed", *e.Device.Managed, true},
		{"device.jailbreak", *e.Device.Jailbreak, false},
		{"device.disk_encryption_type", Str(e.Device.DiskEncryptionType), "ALL_INTERNAL_VOLUMES"},
		{"device.secure_hardware_present", *e.Device.SecureHardwarePresent, true},
		{"device.device_integrator", e.Device.DeviceIntegrator["name"], "none"},
		{"outcome.reason", Str(e.Outcome.Reason), "INVALID_CREDENTIALS"},
		{"target.changeDetails.to", e.Target[0].ChangeDetails.To["status"], "SUSPENDED"},
		{"transaction.detail", e.Transaction.Detail["requestApiTokenId"], "00T94e3cn9kSEO3c51s5"},
		{"debugData number keeps its text", e.DebugContext.DebugData["count"], json.Number("3")},
		{"issuer.type", Str(e.AuthenticationContext.Issuer.Type), "OKTA"},
		{"rootSessionId", Str(e.AuthenticationContext.RootSessionID), "102rootSession"},
		{"interface", Str(e.AuthenticationContext.Interface), "Okta Verify"},
		{"asNumber", *sc.ASNumber, int64(64500)},
		{"isProxy", *sc.IsProxy, true},
		{"ipServiceCategories", Str(sc.IPDetails.IPServiceCategories[0].Operator), "ExampleVPN"},
		{"isAnonymous", *sc.IPDetails.IPServiceCategories[0].IsAnonymous, true},
		{"risk.reasons", sc.Risk.Reasons, []string{"Anomalous Location", "New Device"}},
		{"risk.detectionName", Str(sc.Risk.DetectionName), "Session Influenced User Risk"},
		{"userBehaviors", Str(sc.UserBehaviors[0].Result), "POSITIVE"},
		{"botProtection", Str(sc.BotProtection.Level), "LOW"},
		{"ipChain.version", Str(e.Request.IPChain[0].Version), "V6"},
		{"ipChain.ipDetails", *e.Request.IPChain[0].IPDetails.ASNumber, int64(64500)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	// Only request.ipChain[0].source (null) may sit in an Extra.
	out, _ := json.Marshal(e)
	if n := strings.Count(string(out), "null"); n != 1 {
		t.Errorf("%d nulls in the output, want 1", n)
	}
	if len(e.Extra)+len(e.Actor.Extra)+len(e.Client.Extra)+len(e.Device.Extra)+len(sc.Extra)+len(sc.Risk.Extra)+len(e.Request.IPChain[0].Extra) != 1 {
		t.Error("a documented member ended up in Extra")
	}
}

// Decoded events must not share memory with the input: ingest reuses its
// line buffers.
func TestDecodeDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"uuid":"abc","newTop":{"k":"v"},"client":{"x":"yy"},"debugContext":{"debugData":{"a":"b"}}}`)
	e, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(e)
	for i := range in {
		if in[i] >= 'a' && in[i] <= 'z' {
			in[i] = 'Q'
		}
	}
	got, _ := json.Marshal(e)
	if string(got) != string(want) {
		t.Errorf("event changed with its input:\n%s\n%s", want, got)
	}
}

func TestDecodeErrorHasOffset(t *testing.T) {
	_, err := Decode([]byte(`{"uuid":"a",  "x": tru}`))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 19 {
		t.Fatalf("err = %v, want a SyntaxError at byte 19", err)
	}
}
