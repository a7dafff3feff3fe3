package event

// The member tables of the model, in Okta's order. A test checks them
// against the json tags of the structs.

var (
	eventCodec = newCodec(func(x *LogEvent) *Extra { return &x.Extra },
		strField("uuid", func(x *LogEvent) **string { return &x.UUID }),
		strField("published", func(x *LogEvent) **string { return &x.Published }),
		strField("eventType", func(x *LogEvent) **string { return &x.EventType }),
		strField("version", func(x *LogEvent) **string { return &x.Version }),
		strField("severity", func(x *LogEvent) **string { return &x.Severity }),
		strField("legacyEventType", func(x *LogEvent) **string { return &x.LegacyEventType }),
		strField("displayMessage", func(x *LogEvent) **string { return &x.DisplayMessage }),
		objField("actor", actorCodec, func(x *LogEvent) **Actor { return &x.Actor }),
		objField("client", clientCodec, func(x *LogEvent) **Client { return &x.Client }),
		objField("device", deviceCodec, func(x *LogEvent) **Device { return &x.Device }),
		objField("outcome", outcomeCodec, func(x *LogEvent) **Outcome { return &x.Outcome }),
		arrField("target", targetCodec, func(x *LogEvent) *[]Target { return &x.Target }),
		objField("transaction", transactionCodec, func(x *LogEvent) **Transaction { return &x.Transaction }),
		objField("debugContext", debugContextCodec, func(x *LogEvent) **DebugContext { return &x.DebugContext }),
		objField("authenticationContext", authenticationContextCodec, func(x *LogEvent) **AuthenticationContext { return &x.AuthenticationContext }),
		objField("securityContext", securityContextCodec, func(x *LogEvent) **SecurityContext { return &x.SecurityContext }),
		objField("request", requestCodec, func(x *LogEvent) **Request { return &x.Request }),
	)
	actorCodec = newCodec(func(x *Actor) *Extra { return &x.Extra },
		strField("id", func(x *Actor) **string { return &x.ID }),
		strField("type", func(x *Actor) **string { return &x.Type }),
		strField("alternateId", func(x *Actor) **string { return &x.AlternateID }),
		strField("displayName", func(x *Actor) **string { return &x.DisplayName }),
		mapField("detailEntry", func(x *Actor) *map[string]any { return &x.DetailEntry }),
	)
	clientCodec = newCodec(func(x *Client) *Extra { return &x.Extra },
		objField("userAgent", userAgentCodec, func(x *Client) **UserAgent { return &x.UserAgent }),
		strField("zone", func(x *Client) **string { return &x.Zone }),
		strField("device", func(x *Client) **string { return &x.Device }),
		strField("id", func(x *Client) **string { return &x.ID }),
		strField("ipAddress", func(x *Client) **string { return &x.IPAddress }),
		objField("geographicalContext", geographicalContextCodec, func(x *Client) **GeographicalContext { return &x.GeographicalContext }),
	)
	userAgentCodec = newCodec(func(x *UserAgent) *Extra { return &x.Extra },
		strField("rawUserAgent", func(x *UserAgent) **string { return &x.RawUserAgent }),
		strField("os", func(x *UserAgent) **string { return &x.OS }),
		strField("browser", func(x *UserAgent) **string { return &x.Browser }),
	)
	geographicalContextCodec = newCodec(func(x *GeographicalContext) *Extra { return &x.Extra },
		strField("city", func(x *GeographicalContext) **string { return &x.City }),
		strField("state", func(x *GeographicalContext) **string { return &x.State }),
		strField("country", func(x *GeographicalContext) **string { return &x.Country }),
		strField("postalCode", func(x *GeographicalContext) **string { return &x.PostalCode }),
		objField("geolocation", geolocationCodec, func(x *GeographicalContext) **Geolocation { return &x.Geolocation }),
	)
	geolocationCodec = newCodec(func(x *Geolocation) *Extra { return &x.Extra },
		floatField("lat", func(x *Geolocation) **float64 { return &x.Lat }),
		floatField("lon", func(x *Geolocation) **float64 { return &x.Lon }),
	)
	deviceCodec = newCodec(func(x *Device) *Extra { return &x.Extra },
		strField("id", func(x *Device) **string { return &x.ID }),
		strField("name", func(x *Device) **string { return &x.Name }),
		strField("os_platform", func(x *Device) **string { return &x.OSPlatform }),
		strField("os_version", func(x *Device) **string { return &x.OSVersion }),
		boolField("managed", func(x *Device) **bool { return &x.Managed }),
		boolField("registered", func(x *Device) **bool { return &x.Registered }),
		mapField("device_integrator", func(x *Device) *map[string]any { return &x.DeviceIntegrator }),
		strField("disk_encryption_type", func(x *Device) **string { return &x.DiskEncryptionType }),
		strField("screen_lock_type", func(x *Device) **string { return &x.ScreenLockType }),
		boolField("jailbreak", func(x *Device) **bool { return &x.Jailbreak }),
		boolField("secure_hardware_present", func(x *Device) **bool { return &x.SecureHardwarePresent }),
	)
	outcomeCodec = newCodec(func(x *Outcome) *Extra { return &x.Extra },
		strField("result", func(x *Outcome) **string { return &x.Result }),
		strField("reason", func(x *Outcome) **string { return &x.Reason }),
	)
	targetCodec = newCodec(func(x *Target) *Extra { return &x.Extra },
		strField("id", func(x *Target) **string { return &x.ID }),
		strField("type", func(x *Target) **string { return &x.Type }),
		strField("alternateId", func(x *Target) **string { return &x.AlternateID }),
		strField("displayName", func(x *Target) **string { return &x.DisplayName }),
		mapField("detailEntry", func(x *Target) *map[string]any { return &x.DetailEntry }),
		objField("changeDetails", changeDetailsCodec, func(x *Target) **ChangeDetails { return &x.ChangeDetails }),
	)
	changeDetailsCodec = newCodec(func(x *ChangeDetails) *Extra { return &x.Extra },
		mapField("from", func(x *ChangeDetails) *map[string]any { return &x.From }),
		mapField("to", func(x *ChangeDetails) *map[string]any { return &x.To }),
	)
	transactionCodec = newCodec(func(x *Transaction) *Extra { return &x.Extra },
		strField("type", func(x *Transaction) **string { return &x.Type }),
		strField("id", func(x *Transaction) **string { return &x.ID }),
		mapField("detail", func(x *Transaction) *map[string]any { return &x.Detail }),
	)
	debugContextCodec = newCodec(func(x *DebugContext) *Extra { return &x.Extra },
		mapField("debugData", func(x *DebugContext) *map[string]any { return &x.DebugData }),
	)
	authenticationContextCodec = newCodec(func(x *AuthenticationContext) *Extra { return &x.Extra },
		strField("authenticationProvider", func(x *AuthenticationContext) **string { return &x.AuthenticationProvider }),
		strField("credentialProvider", func(x *AuthenticationContext) **string { return &x.CredentialProvider }),
		strField("credentialType", func(x *AuthenticationContext) **string { return &x.CredentialType }),
		objField("issuer", issuerCodec, func(x *AuthenticationContext) **Issuer { return &x.Issuer }),
		strField("externalSessionId", func(x *AuthenticationContext) **string { return &x.ExternalSessionID }),
		strField("interface", func(x *AuthenticationContext) **string { return &x.Interface }),
		intField("authenticationStep", func(x *AuthenticationContext) **int64 { return &x.AuthenticationStep }),
		strField("rootSessionId", func(x *AuthenticationContext) **string { return &x.RootSessionID }),
	)
	issuerCodec = newCodec(func(x *Issuer) *Extra { return &x.Extra },
		strField("id", func(x *Issuer) **string { return &x.ID }),
		strField("type", func(x *Issuer) **string { return &x.Type }),
	)
	securityContextCodec = newCodec(func(x *SecurityContext) *Extra { return &x.Extra },
		intField("asNumber", func(x *SecurityContext) **int64 { return &x.ASNumber }),
		strField("asOrg", func(x *SecurityContext) **string { return &x.ASOrg }),
		strField("isp", func(x *SecurityContext) **string { return &x.ISP }),
		strField("domain", func(x *SecurityContext) **string { return &x.Domain }),
		boolField("isProxy", func(x *SecurityContext) **bool { return &x.IsProxy }),
		objField("ipDetails", ipDetailsCodec, func(x *SecurityContext) **IPDetails { return &x.IPDetails }),
		objField("risk", riskCodec, func(x *SecurityContext) **Risk { return &x.Risk }),
		arrField("userBehaviors", userBehaviorCodec, func(x *SecurityContext) *[]UserBehavior { return &x.UserBehaviors }),
		objField("botProtection", botProtectionCodec, func(x *SecurityContext) **BotProtection { return &x.BotProtection }),
	)
	ipDetailsCodec = newCodec(func(x *IPDetails) *Extra { return &x.Extra },
		intField("asNumber", func(x *IPDetails) **int64 { return &x.ASNumber }),
		strField("asOrg", func(x *IPDetails) **string { return &x.ASOrg }),
		strField("domain", func(x *IPDetails) **string { return &x.Domain }),
		strField("isp", func(x *IPDetails) **string { return &x.ISP }),
		arrField("ipServiceCategories", ipServiceCategoryCodec, func(x *IPDetails) *[]IPServiceCategory { return &x.IPServiceCategories }),
	)
	ipServiceCategoryCodec = newCodec(func(x *IPServiceCategory) *Extra { return &x.Extra },
		strField("type", func(x *IPServiceCategory) **string { return &x.Type }),
		strField("operator", func(x *IPServiceCategory) **string { return &x.Operator }),
		boolField("isAnonymous", func(x *IPServiceCategory) **bool { return &x.IsAnonymous }),
	)
	riskCodec = newCodec(func(x *Risk) *Extra { return &x.Extra },
		strField("level", func(x *Risk) **string { return &x.Level }),
		strField("previousLevel", func(x *Risk) **string { return &x.PreviousLevel }),
		strsField("reasons", func(x *Risk) *[]string { return &x.Reasons }),
		strField("detectionName", func(x *Risk) **string { return &x.DetectionName }),
		strField("issuer", func(x *Risk) **string { return &x.Issuer }),
	)
	userBehaviorCodec = newCodec(func(x *UserBehavior) *Extra { return &x.Extra },
		strField("id", func(x *UserBehavior) **string { return &x.ID }),
		strField("name", func(x *UserBehavior) **string { return &x.Name }),
		strField("result", func(x *UserBehavior) **string { return &x.Result }),
	)
	botProtectionCodec = newCodec(func(x *BotProtection) *Extra { return &x.Extra },
		strField("level", func(x *BotProtection) **string { return &x.Level }),
	)
	requestCodec = newCodec(func(x *Request) *Extra { return &x.Extra },
		arrField("ipChain", ipChainEntryCodec, func(x *Request) *[]IPChainEntry { return &x.IPChain }),
	)
	ipChainEntryCodec = newCodec(func(x *IPChainEntry) *Extra { return &x.Extra },
		strField("ip", func(x *IPChainEntry) **string { return &x.IP }),
		objField("geographicalContext", geographicalContextCodec, func(x *IPChainEntry) **GeographicalContext { return &x.GeographicalContext }),
		strField("version", func(x *IPChainEntry) **string { return &x.Version }),
		strField("source", func(x *IPChainEntry) **string { return &x.Source }),
		objField("ipDetails", ipDetailsCodec, func(x *IPChainEntry) **IPDetails { return &x.IPDetails }),
	)
)

// Every object of the model reads and writes itself through its table, so
// encoding/json (and json.Marshal of a LogEvent) takes the same path.
func (x *LogEvent) UnmarshalJSON(b []byte) error { return eventCodec.unmarshal(b, x) }
func (x LogEvent) MarshalJSON() ([]byte, error)  { return eventCodec.marshal(&x) }

func (x *Actor) UnmarshalJSON(b []byte) error { return actorCodec.unmarshal(b, x) }
func (x Actor) MarshalJSON() ([]byte, error)  { return actorCodec.marshal(&x) }

func (x *Client) UnmarshalJSON(b []byte) error { return clientCodec.unmarshal(b, x) }
func (x Client) MarshalJSON() ([]byte, error)  { return clientCodec.marshal(&x) }

func (x *UserAgent) UnmarshalJSON(b []byte) error { return userAgentCodec.unmarshal(b, x) }
func (x UserAgent) MarshalJSON() ([]byte, error)  { return userAgentCodec.marshal(&x) }

func (x *GeographicalContext) UnmarshalJSON(b []byte) error {
	return geographicalContextCodec.unmarshal(b, x)
}
func (x GeographicalContext) MarshalJSON() ([]byte, error) {
	return geographicalContextCodec.marshal(&x)
}

func (x *Geolocation) UnmarshalJSON(b []byte) error { return geolocationCodec.unmarshal(b, x) }
func (x Geolocation) MarshalJSON() ([]byte, error)  { return geolocationCodec.marshal(&x) }

func (x *Device) UnmarshalJSON(b []byte) error { return deviceCodec.unmarshal(b, x) }
func (x Device) MarshalJSON() ([]byte, error)  { return deviceCodec.marshal(&x) }

func (x *Outcome) UnmarshalJSON(b []byte) error { return outcomeCodec.unmarshal(b, x) }
func (x Outcome) MarshalJSON() ([]byte, error)  { return outcomeCodec.marshal(&x) }

func (x *Target) UnmarshalJSON(b []byte) error { return targetCodec.unmarshal(b, x) }
func (x Target) MarshalJSON() ([]byte, error)  { return targetCodec.marshal(&x) }

func (x *ChangeDetails) UnmarshalJSON(b []byte) error { return changeDetailsCodec.unmarshal(b, x) }
func (x ChangeDetails) MarshalJSON() ([]byte, error)  { return changeDetailsCodec.marshal(&x) }

func (x *Transaction) UnmarshalJSON(b []byte) error { return transactionCodec.unmarshal(b, x) }
func (x Transaction) MarshalJSON() ([]byte, error)  { return transactionCodec.marshal(&x) }

func (x *DebugContext) UnmarshalJSON(b []byte) error { return debugContextCodec.unmarshal(b, x) }
func (x DebugContext) MarshalJSON() ([]byte, error)  { return debugContextCodec.marshal(&x) }

func (x *AuthenticationContext) UnmarshalJSON(b []byte) error {
	return authenticationContextCodec.unmarshal(b, x)
}
func (x AuthenticationContext) MarshalJSON() ([]byte, error) {
	return authenticationContextCodec.marshal(&x)
}

func (x *Issuer) UnmarshalJSON(b []byte) error { return issuerCodec.unmarshal(b, x) }
func (x Issuer) MarshalJSON() ([]byte, error)  { return issuerCodec.marshal(&x) }

func (x *SecurityContext) UnmarshalJSON(b []byte) error { return securityContextCodec.unmarshal(b, x) }
func (x SecurityContext) MarshalJSON() ([]byte, error)  { return securityContextCodec.marshal(&x) }

func (x *IPDetails) UnmarshalJSON(b []byte) error { return ipDetailsCodec.unmarshal(b, x) }
func (x IPDetails) MarshalJSON() ([]byte, error)  { return ipDetailsCodec.marshal(&x) }

func (x *IPServiceCategory) UnmarshalJSON(b []byte) error {
	return ipServiceCategoryCodec.unmarshal(b, x)
}
func (x IPServiceCategory) MarshalJSON() ([]byte, error) { return ipServiceCategoryCodec.marshal(&x) }

func (x *Risk) UnmarshalJSON(b []byte) error { return riskCodec.unmarshal(b, x) }
func (x Risk) MarshalJSON() ([]byte, error)  { return riskCodec.marshal(&x) }

func (x *UserBehavior) UnmarshalJSON(b []byte) error { return userBehaviorCodec.unmarshal(b, x) }
func (x UserBehavior) MarshalJSON() ([]byte, error)  { return userBehaviorCodec.marshal(&x) }

func (x *BotProtection) UnmarshalJSON(b []byte) error { return botProtectionCodec.unmarshal(b, x) }
func (x BotProtection) MarshalJSON() ([]byte, error)  { return botProtectionCodec.marshal(&x) }

func (x *Request) UnmarshalJSON(b []byte) error { return requestCodec.unmarshal(b, x) }
func (x Request) MarshalJSON() ([]byte, error)  { return requestCodec.marshal(&x) }

func (x *IPChainEntry) UnmarshalJSON(b []byte) error { return ipChainEntryCodec.unmarshal(b, x) }
func (x IPChainEntry) MarshalJSON() ([]byte, error)  { return ipChainEntryCodec.marshal(&x) }
