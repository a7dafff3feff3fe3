// Package event is the Okta System Log LogEvent: the typed model every part of
// idlog reads, and a decoder that loses nothing.
//
// Lossless decoding. Okta adds fields without notice and other producers add
// their own, and idlog must hand back exactly what it stored. So every object
// of the model carries an Extra map beside its typed fields, and one generic
// codec (codec.go, driven by the member tables in tables.go) moves members
// between the two:
//
//   - a member the model has no field for is kept, as raw JSON, in Extra;
//   - a known member whose value is JSON null leaves its field nil and is
//     remembered as null in Extra, because a nil pointer alone cannot say
//     whether Okta sent null or nothing at all;
//   - a known member whose value does not fit the documented type (a string
//     where Okta documents a number, an array with a null element) also
//     leaves its field nil and keeps the raw value in Extra. Decode therefore
//     fails only on input that is not a JSON object; checking required
//     fields is the ingest pipeline's job.
//
// Encoding writes the typed fields in Okta's order, falls back to Extra for a
// field that is nil, and then writes the unknown members sorted by name. A
// field set in code always wins over what Extra remembers for that name.
// Decode followed by json.Marshal gives back the input as a JSON value: the
// same members, nulls and values (numbers compared as float64, as
// encoding/json does), though not the same whitespace or key order. A
// repeated member name keeps the last value, as encoding/json does.
//
// Every typed field is a pointer, slice or map so that "not there" is
// representable. Open-ended maps (detailEntry, debugData, transaction.detail,
// changeDetails) are map[string]any holding json.Number for numbers, so they
// keep their exact text.
//
// The walker (walk.go) is the one reader of an event's bytes: it validates
// the text, accepting exactly what encoding/json accepts, and records every
// value as a Node. Decode reads the model from those nodes (DecodeDoc, when
// ingest has walked the event already), and so do the stores, so nothing
// parses an event twice. Decoded events never share memory with the input.
package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// Extra holds the members of one JSON object that its typed fields do not
// carry (see the package comment). Keys are member names; values raw JSON.
type Extra = map[string]json.RawMessage

// LogEvent is one System Log event.
type LogEvent struct {
	UUID                  *string                `json:"uuid"`
	Published             *string                `json:"published"`
	EventType             *string                `json:"eventType"`
	Version               *string                `json:"version"`
	Severity              *string                `json:"severity"`
	LegacyEventType       *string                `json:"legacyEventType"`
	DisplayMessage        *string                `json:"displayMessage"`
	Actor                 *Actor                 `json:"actor"`
	Client                *Client                `json:"client"`
	Device                *Device                `json:"device"`
	Outcome               *Outcome               `json:"outcome"`
	Target                []Target               `json:"target"`
	Transaction           *Transaction           `json:"transaction"`
	DebugContext          *DebugContext          `json:"debugContext"`
	AuthenticationContext *AuthenticationContext `json:"authenticationContext"`
	SecurityContext       *SecurityContext       `json:"securityContext"`
	Request               *Request               `json:"request"`
	Extra                 Extra                  `json:"-"`
}

// Actor is who did it: a user, an app, the system.
type Actor struct {
	ID          *string        `json:"id"`
	Type        *string        `json:"type"`
	AlternateID *string        `json:"alternateId"`
	DisplayName *string        `json:"displayName"`
	DetailEntry map[string]any `json:"detailEntry"`
	Extra       Extra          `json:"-"`
}

// Client is where the request came from.
type Client struct {
	UserAgent           *UserAgent           `json:"userAgent"`
	Zone                *string              `json:"zone"` // often the string "null"
	Device              *string              `json:"device"`
	ID                  *string              `json:"id"`
	IPAddress           *string              `json:"ipAddress"`
	GeographicalContext *GeographicalContext `json:"geographicalContext"`
	Extra               Extra                `json:"-"`
}

// UserAgent is the browser string and Okta's reading of it.
type UserAgent struct {
	RawUserAgent *string `json:"rawUserAgent"`
	OS           *string `json:"os"`
	Browser      *string `json:"browser"`
	Extra        Extra   `json:"-"`
}

// GeographicalContext is Okta's geolocation of an IP address.
type GeographicalContext struct {
	City        *string      `json:"city"`
	State       *string      `json:"state"`
	Country     *string      `json:"country"`
	PostalCode  *string      `json:"postalCode"`
	Geolocation *Geolocation `json:"geolocation"`
	Extra       Extra        `json:"-"`
}

// Geolocation is a point in degrees.
type Geolocation struct {
	Lat   *float64 `json:"lat"`
	Lon   *float64 `json:"lon"`
	Extra Extra    `json:"-"`
}

// Device is the top-level device object (Okta Identity Engine device
// assurance). Okta spells its keys in snake_case.
type Device struct {
	ID                    *string        `json:"id"`
	Name                  *string        `json:"name"`
	OSPlatform            *string        `json:"os_platform"`
	OSVersion             *string        `json:"os_version"`
	Managed               *bool          `json:"managed"`
	Registered            *bool          `json:"registered"`
	DeviceIntegrator      map[string]any `json:"device_integrator"`
	DiskEncryptionType    *string        `json:"disk_encryption_type"`
	ScreenLockType        *string        `json:"screen_lock_type"`
	Jailbreak             *bool          `json:"jailbreak"`
	SecureHardwarePresent *bool          `json:"secure_hardware_present"`
	Extra                 Extra          `json:"-"`
}

// Outcome is how it ended (SUCCESS, FAILURE, ALLOW, DENY, CHALLENGE, …).
type Outcome struct {
	Result *string `json:"result"`
	Reason *string `json:"reason"`
	Extra  Extra   `json:"-"`
}

// Target is one object the event acted on.
type Target struct {
	ID            *string        `json:"id"`
	Type          *string        `json:"type"`
	AlternateID   *string        `json:"alternateId"`
	DisplayName   *string        `json:"displayName"`
	DetailEntry   map[string]any `json:"detailEntry"`
	ChangeDetails *ChangeDetails `json:"changeDetails"`
	Extra         Extra          `json:"-"`
}

// ChangeDetails is the before and after of a changed target.
type ChangeDetails struct {
	From  map[string]any `json:"from"`
	To    map[string]any `json:"to"`
	Extra Extra          `json:"-"`
}

// Transaction groups the events of one request (WEB) or job (JOB).
type Transaction struct {
	Type   *string        `json:"type"`
	ID     *string        `json:"id"`
	Detail map[string]any `json:"detail"`
	Extra  Extra          `json:"-"`
}

// DebugContext carries debugData, a free map Okta makes no promises about.
type DebugContext struct {
	DebugData map[string]any `json:"debugData"`
	Extra     Extra          `json:"-"`
}

// AuthenticationContext says how the actor authenticated and in which session.
type AuthenticationContext struct {
	AuthenticationProvider *string `json:"authenticationProvider"`
	CredentialProvider     *string `json:"credentialProvider"`
	CredentialType         *string `json:"credentialType"`
	Issuer                 *Issuer `json:"issuer"`
	ExternalSessionID      *string `json:"externalSessionId"`
	Interface              *string `json:"interface"`
	AuthenticationStep     *int64  `json:"authenticationStep"`
	RootSessionID          *string `json:"rootSessionId"`
	Extra                  Extra   `json:"-"`
}

// Issuer is who issued the credential.
type Issuer struct {
	ID    *string `json:"id"`
	Type  *string `json:"type"`
	Extra Extra   `json:"-"`
}

// SecurityContext is Okta's reading of the client network and risk.
type SecurityContext struct {
	ASNumber      *int64         `json:"asNumber"`
	ASOrg         *string        `json:"asOrg"`
	ISP           *string        `json:"isp"`
	Domain        *string        `json:"domain"`
	IsProxy       *bool          `json:"isProxy"`
	IPDetails     *IPDetails     `json:"ipDetails"`
	Risk          *Risk          `json:"risk"`
	UserBehaviors []UserBehavior `json:"userBehaviors"`
	BotProtection *BotProtection `json:"botProtection"`
	Extra         Extra          `json:"-"`
}

// IPDetails describes the network an IP belongs to.
type IPDetails struct {
	ASNumber            *int64              `json:"asNumber"`
	ASOrg               *string             `json:"asOrg"`
	Domain              *string             `json:"domain"`
	ISP                 *string             `json:"isp"`
	IPServiceCategories []IPServiceCategory `json:"ipServiceCategories"`
	Extra               Extra               `json:"-"`
}

// IPServiceCategory flags an anonymising service (VPN, Proxy, Tor, …).
type IPServiceCategory struct {
	Type        *string `json:"type"`
	Operator    *string `json:"operator"`
	IsAnonymous *bool   `json:"isAnonymous"`
	Extra       Extra   `json:"-"`
}

// Risk is Okta's risk assessment of the request.
type Risk struct {
	Level         *string  `json:"level"`
	PreviousLevel *string  `json:"previousLevel"`
	Reasons       []string `json:"reasons"`
	DetectionName *string  `json:"detectionName"`
	Issuer        *string  `json:"issuer"`
	Extra         Extra    `json:"-"`
}

// UserBehavior is one behaviour detection and its verdict.
type UserBehavior struct {
	ID     *string `json:"id"`
	Name   *string `json:"name"`
	Result *string `json:"result"`
	Extra  Extra   `json:"-"`
}

// BotProtection is Okta's bot verdict.
type BotProtection struct {
	Level *string `json:"level"`
	Extra Extra   `json:"-"`
}

// Request holds the chain of IPs the request passed through.
type Request struct {
	IPChain []IPChainEntry `json:"ipChain"`
	Extra   Extra          `json:"-"`
}

// IPChainEntry is one hop, client first.
type IPChainEntry struct {
	IP                  *string              `json:"ip"`
	GeographicalContext *GeographicalContext `json:"geographicalContext"`
	Version             *string              `json:"version"`
	Source              *string              `json:"source"`
	IPDetails           *IPDetails           `json:"ipDetails"`
	Extra               Extra                `json:"-"`
}

// Decode parses one LogEvent. It fails only when raw is not a single JSON
// object; see the package comment for what happens to unexpected members.
func Decode(raw []byte) (*LogEvent, error) {
	e := new(LogEvent)
	if err := eventCodec.unmarshal(raw, e); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	return e, nil
}

// DecodeDoc is Decode for an event already walked (store.Event.Doc), so
// that it is not read again.
func DecodeDoc(d *Doc) (*LogEvent, error) {
	e := new(LogEvent)
	if err := eventCodec.readDoc(d, e); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	return e, nil
}

// Ptr returns a pointer to v, for building events in code.
func Ptr[T any](v T) *T { return &v }

// Str returns *p, or "" when p is nil.
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Time parses published. Okta writes it as RFC 3339 with milliseconds.
func (e *LogEvent) Time() (time.Time, error) {
	if e.Published == nil {
		return time.Time{}, fmt.Errorf("event: published is missing")
	}
	return time.Parse(time.RFC3339Nano, *e.Published)
}

// SetNull makes the member name encode as JSON null while its typed field (if
// any) is nil. Okta sends null for most absent values; events built in code
// use it to look the same.
func SetNull(x *Extra, name string) {
	if *x == nil {
		*x = make(Extra)
	}
	(*x)[name] = json.RawMessage("null")
}
