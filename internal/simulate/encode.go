package simulate

import (
	"strconv"
	"time"
)

// The JSON writer. Events are written by hand into one reused buffer, in the
// key order of Okta's own samples, with Okta's quirks: absent values are
// null, an event without targets has "target":null, debugData values are all
// strings, and a client outside any network zone has "zone":"null".

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// oktaID makes a 20-character Okta object id: a 3-character type prefix, 14
// random characters and the org's 3-character tail, the way Okta ids end in
// the same few characters within one org.
func (g *Generator) oktaID(prefix string) string {
	var b [20]byte
	copy(b[:], prefix)
	v := g.r.Uint64()
	for i := 3; i < 17; i++ {
		b[i] = alnum[v%62]
		v /= 62
		if v == 0 {
			v = g.r.Uint64()
		}
	}
	copy(b[17:], "1d8")
	return string(b[:])
}

// token makes a random base62 string of n characters after prefix, for
// session ids (102…, idx…) and request ids.
func (g *Generator) token(prefix string, n int) string {
	b := make([]byte, len(prefix)+n)
	copy(b, prefix)
	v := g.r.Uint64()
	for i := len(prefix); i < len(b); i++ {
		b[i] = alnum[v%62]
		v /= 62
		if v < 62 {
			v = g.r.Uint64()
		}
	}
	return string(b)
}

// appendRequestID writes a transaction id from 64 random bits, in the shape
// of Okta's: 27 characters with "AAA" near the end, like
// ZCCzm8j2wTvzwele2NwLnwAADSc. Ids are kept as numbers until written so the
// hot path allocates no strings for them.
func appendRequestID(b []byte, v uint64) []byte {
	w := v
	for i := 0; i < 22; i++ {
		b = append(b, alnum[w%62])
		w /= 62
		if w < 62 {
			w = v*0x9E3779B97F4A7C15 + uint64(i)
		}
	}
	return append(b, 'A', 'A', 'A', alnum[10+v%26], alnum[v>>7%62])
}

func (g *Generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = g.r.Uint64()
		}
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b)
}

// Okta's uuids are time-based (version 1). Ours too: the timestamp is the
// event's published time plus a random sub-millisecond part, the clock
// sequence is random and the node is one of a few "servers".
const gregorianOffset = 0x01B21DD213814000 // 100 ns intervals from 1582-10-15 to 1970-01-01

var uuidNodes = [8]uint64{0xdb22c99ef6c4, 0x0a6b3f21c9d1, 0x5e4c8d02ab77, 0x7f13e95b0c42, 0x31d0aa7e6f18, 0x9c5b12e4d3a0, 0x46e7f0c1b295, 0xb8a91d5c3e64}

func appendUUID(b []byte, ms int64, rnd uint64) []byte {
	const digits = "0123456789abcdef"
	ts := uint64(ms)*10000 + rnd%10000 + gregorianOffset
	rnd /= 10000
	clk := rnd&0x3fff | 0x8000
	node := uuidNodes[(rnd>>14)&7]
	var u [16]byte
	tl := uint32(ts)
	u[0], u[1], u[2], u[3] = byte(tl>>24), byte(tl>>16), byte(tl>>8), byte(tl)
	tm := uint16(ts >> 32)
	u[4], u[5] = byte(tm>>8), byte(tm)
	th := uint16(ts>>48)&0x0fff | 0x1000
	u[6], u[7] = byte(th>>8), byte(th)
	u[8], u[9] = byte(clk>>8), byte(clk)
	for i := 0; i < 6; i++ {
		u[10+i] = byte(node >> (40 - 8*i))
	}
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[x>>4], digits[x&15])
	}
	return b
}

// timeCache remembers the formatted date of the last day written, since
// events come in time order and most share their day with the previous one.
type timeCache struct {
	day    int64 // unix day number
	prefix [11]byte
}

func (c *timeCache) append(b []byte, ms int64) []byte {
	day := ms / 86400000
	if ms < 0 {
		day = (ms - 86399999) / 86400000
	}
	if day != c.day || c.prefix[0] == 0 {
		c.day = day
		copy(c.prefix[:], time.UnixMilli(day*86400000).UTC().AppendFormat(nil, "2006-01-02T"))
	}
	b = append(b, c.prefix[:]...)
	r := ms - day*86400000
	h, m, s, f := r/3600000, r/60000%60, r/1000%60, r%1000
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10), 'Z')
}

// appendOurs writes a string the simulator made itself (messages, reasons,
// session ids, behaviors): none needs escaping, so it skips the scan. The
// tests decode every event, so a string that did need it would fail them.
func appendOurs(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendNullable writes one of our strings, or null when s is empty.
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendOurs(b, s)
}

func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendEvent writes one LogEvent.
func (g *Generator) appendEvent(b []byte, e *event) []byte {
	et := &etypes[e.typ]
	b = append(b, `{"uuid":"`...)
	b = appendUUID(b, e.t, e.rnd)
	b = append(b, `","published":"`...)
	b = g.tc.append(b, e.t)
	b = append(b, `","eventType":"`...)
	b = append(b, et.name...)
	b = append(b, `","version":"0","displayMessage":`...)
	b = appendOurs(b, et.display)
	b = append(b, `,"severity":"`...)
	ok := e.result != rFailure && e.result != rDeny
	switch {
	case e.warn || (!ok && et.failSeverity):
		b = append(b, "WARN"...)
	default:
		b = append(b, "INFO"...)
	}
	b = append(b, `","client":`...)
	if e.net != nil {
		b = append(b, e.net.client...)
	} else {
		b = append(b, `{"userAgent":null,"zone":null,"device":null,"id":null,"ipAddress":null,"geographicalContext":null}`...)
	}
	b = append(b, `,"device":null,"actor":`...)
	b = append(b, e.actor.json...)
	b = append(b, `,"outcome":{"result":"`...)
	b = append(b, results[e.result]...)
	b = append(b, `","reason":`...)
	b = appendNullable(b, e.reason)
	b = append(b, `},"target":`...)
	if e.nt == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := 0; i < int(e.nt); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e.tg[i].json...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"transaction":{"type":"`...)
	if e.net != nil {
		b = append(b, "WEB"...)
	} else {
		b = append(b, "JOB"...)
	}
	b = append(b, `","id":"`...)
	b = appendRequestID(b, e.tx)
	b = append(b, `","detail":{`...)
	if e.apiToken != 0 {
		b = append(b, `"requestApiTokenId":"`...)
		b = append(b, g.tokens[e.apiToken-1]...)
		b = append(b, '"')
	}
	b = append(b, `}},"debugContext":{"debugData":{`...)
	b = g.appendDebug(b, e)
	b = append(b, `}},"legacyEventType":`...)
	if !ok && et.legacyFail != "" {
		b = appendOurs(b, et.legacyFail)
	} else {
		b = appendNullable(b, et.legacy)
	}
	cr := &creds[e.cred]
	b = append(b, `,"authenticationContext":{"authenticationProvider":`...)
	b = appendNullable(b, cr.provider)
	b = append(b, `,"credentialProvider":`...)
	b = appendNullable(b, cr.credProvider)
	b = append(b, `,"credentialType":`...)
	b = appendNullable(b, cr.credType)
	b = append(b, `,"issuer":null,"authenticationStep":0,"externalSessionId":`...)
	b = appendNullable(b, e.sess)
	b = append(b, `,"interface":null},"securityContext":`...)
	if e.net != nil {
		b = append(b, e.net.security...)
		b = append(b, `,"request":{"ipChain":`...)
		b = append(b, e.net.ipChain...)
		b = append(b, "}}"...)
	} else {
		b = append(b, `{"asNumber":null,"asOrg":null,"isp":null,"domain":null,"isProxy":null},"request":{"ipChain":[]}}`...)
	}
	return b
}

func (g *Generator) appendDebug(b []byte, e *event) []byte {
	b = append(b, `"requestId":"`...)
	b = appendRequestID(b, e.tx)
	b = append(b, '"')
	if e.uri != "" {
		// URIs are ours and need no escaping.
		b = append(b, `,"requestUri":"`...)
		b = append(b, e.uri...)
		b = append(b, `","url":"`...)
		b = append(b, e.uri...)
		b = append(b, `?"`...)
	}
	if e.net == nil {
		return b
	}
	b = append(b, `,"threatSuspected":"`...)
	if e.threat {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `","dtHash":"`...)
	b = append(b, e.net.dtHash...)
	b = append(b, '"')
	if e.behaviors != "" {
		b = append(b, `,"deviceFingerprint":"`...)
		b = append(b, e.net.fingerprint...)
		b = append(b, `","behaviors":`...)
		b = appendOurs(b, e.behaviors)
		b = append(b, `,"risk":`...)
		b = appendOurs(b, e.risk)
	}
	if e.factor != "" {
		b = append(b, `,"factor":"`...)
		b = append(b, e.factor...)
		b = append(b, '"')
		if e.typ == tSendSMSVerify || e.typ == tSendSMSPhoneVerify || e.typ == tSMSReset || e.typ == tSMSUnlock {
			b = append(b, `,"smsProvider":"TWILIO"`...)
		}
	}
	if e.app != nil && (e.typ == tSSO || e.typ == tSLO) {
		b = append(b, `,"signOnMode":"`...)
		b = append(b, e.app.mode...)
		b = append(b, `","initiationType":"IDP_INITIATED","audience":`...)
		b = appendOurs(b, e.app.audience)
		if e.typ == tSSO {
			b = append(b, `,"authTime":"`...)
			b = g.tc.append(b, e.t-int64((e.rnd>>20)%900000))
			b = append(b, '"')
		}
	}
	return b
}
