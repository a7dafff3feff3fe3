package simulate

// The world the simulated org lives in: cities with coordinates and UTC
// offsets, the networks people connect from, browsers, names, departments and
// apps. Offsets are standard time; daylight saving is ignored because only the
// rhythm of a working day matters here, not the exact local clock.

type city struct {
	name, state, country, postal string
	lat, lon                     float64
	offset                       int // minutes east of UTC
	cc                           string
	office                       bool // the org has an office here
}

var cities = []city{
	{"San Francisco", "California", "United States", "94105", 37.7898, -122.3942, -480, "US", true},
	{"Oakland", "California", "United States", "94612", 37.8044, -122.2712, -480, "US", false},
	{"Seattle", "Washington", "United States", "98101", 47.6101, -122.3344, -480, "US", false},
	{"Denver", "Colorado", "United States", "80202", 39.7508, -104.9966, -420, "US", false},
	{"Austin", "Texas", "United States", "78701", 30.2711, -97.7437, -360, "US", true},
	{"Chicago", "Illinois", "United States", "60601", 41.8858, -87.6181, -360, "US", false},
	{"New York", "New York", "United States", "10001", 40.7506, -73.9972, -300, "US", true},
	{"Brooklyn", "New York", "United States", "11201", 40.6943, -73.9903, -300, "US", false},
	{"Boston", "Massachusetts", "United States", "02110", 42.3570, -71.0513, -300, "US", false},
	{"Atlanta", "Georgia", "United States", "30303", 33.7525, -84.3915, -300, "US", false},
	{"Toronto", "Ontario", "Canada", "M5V", 43.6426, -79.3871, -300, "CA", true},
	{"Vancouver", "British Columbia", "Canada", "V6B", 49.2796, -123.1153, -480, "CA", false},
	{"London", "England", "United Kingdom", "EC2A", 51.5226, -0.0813, 0, "GB", true},
	{"Manchester", "England", "United Kingdom", "M1", 53.4808, -2.2426, 0, "GB", false},
	{"Dublin", "Leinster", "Ireland", "D02", 53.3441, -6.2675, 0, "IE", true},
	{"Berlin", "Land Berlin", "Germany", "10117", 52.5200, 13.4050, 60, "DE", true},
	{"Munich", "Bavaria", "Germany", "80331", 48.1372, 11.5755, 60, "DE", false},
	{"Paris", "Île-de-France", "France", "75002", 48.8698, 2.3412, 60, "FR", false},
	{"Amsterdam", "North Holland", "Netherlands", "1012", 52.3731, 4.8922, 60, "NL", false},
	{"Madrid", "Madrid", "Spain", "28013", 40.4189, -3.6919, 60, "ES", false},
	{"Stockholm", "Stockholm County", "Sweden", "111 52", 59.3326, 18.0649, 60, "SE", false},
	{"Warsaw", "Mazovia", "Poland", "00-001", 52.2297, 21.0122, 60, "PL", false},
	{"Bengaluru", "Karnataka", "India", "560001", 12.9716, 77.5946, 330, "IN", true},
	{"Mumbai", "Maharashtra", "India", "400001", 18.9388, 72.8354, 330, "IN", false},
	{"Singapore", "Central Singapore", "Singapore", "018989", 1.2789, 103.8536, 480, "SG", true},
	{"Tokyo", "Tokyo", "Japan", "100-0005", 35.6812, 139.7671, 540, "JP", false},
	{"Sydney", "New South Wales", "Australia", "2000", -33.8688, 151.2093, 600, "AU", true},
	{"Melbourne", "Victoria", "Australia", "3000", -37.8136, 144.9631, 600, "AU", false},
	{"São Paulo", "São Paulo", "Brazil", "01310", -23.5613, -46.6565, -180, "BR", false},
	{"Mexico City", "Mexico City", "Mexico", "06600", 19.4270, -99.1676, -360, "MX", false},
	// Places that show up mostly in attacks and on hosting providers.
	{"Ashburn", "Virginia", "United States", "20147", 39.0438, -77.4874, -300, "US", false},
	{"Frankfurt am Main", "Hesse", "Germany", "60313", 50.1109, 8.6821, 60, "DE", false},
	{"Bucharest", "Bucharest", "Romania", "010011", 44.4268, 26.1025, 120, "RO", false},
	{"Lagos", "Lagos", "Nigeria", "100001", 6.5244, 3.3792, 60, "NG", false},
	{"Ho Chi Minh City", "Ho Chi Minh", "Vietnam", "700000", 10.8231, 106.6297, 420, "VN", false},
	{"Jakarta", "Jakarta", "Indonesia", "10110", -6.2088, 106.8456, 420, "ID", false},
}

// Index of the first city used only by attackers; home cities come before it.
const firstAttackCity = 30

type isp struct {
	name, domain string
	asn          int
	prefixes     []string // first two octets of the addresses it hands out
	hosting      bool     // a cloud or VPN provider rather than an access network
	proxy        bool     // flagged as an anonymising proxy
}

var ispsByCountry = map[string][]isp{
	"US": {
		{"Comcast Cable Communications, LLC", "comcast.net", 7922, []string{"73.15", "98.207", "24.6"}, false, false},
		{"AT&T Services, Inc.", "att.net", 7018, []string{"99.110", "108.220"}, false, false},
		{"Verizon Business", "verizon.net", 701, []string{"71.171", "96.255"}, false, false},
		{"Charter Communications Inc", "charter.com", 20115, []string{"76.90", "47.144"}, false, false},
		{"T-Mobile USA, Inc.", "t-mobile.com", 21928, []string{"172.56", "172.58"}, false, false},
	},
	"CA": {
		{"Rogers Communications Canada Inc.", "rogers.com", 812, []string{"99.224", "174.112"}, false, false},
		{"Bell Canada", "bell.ca", 577, []string{"142.126", "70.52"}, false, false},
	},
	"GB": {
		{"British Telecommunications PLC", "bt.com", 2856, []string{"86.128", "81.149"}, false, false},
		{"Virgin Media Limited", "virginmedia.com", 5089, []string{"82.11", "86.3"}, false, false},
	},
	"IE": {{"Eircom Limited", "eir.ie", 5466, []string{"86.40", "79.97"}, false, false}},
	"DE": {
		{"Deutsche Telekom AG", "telekom.de", 3320, []string{"84.160", "93.192"}, false, false},
		{"Vodafone GmbH", "vodafone.de", 3209, []string{"88.64", "94.134"}, false, false},
	},
	"FR": {{"Orange S.A.", "orange.fr", 3215, []string{"90.3", "86.246"}, false, false}},
	"NL": {{"KPN B.V.", "kpn.com", 1136, []string{"77.160", "145.132"}, false, false}},
	"ES": {{"Telefonica de Espana S.A.U.", "telefonica.es", 3352, []string{"83.32", "88.2"}, false, false}},
	"SE": {{"Telia Company AB", "telia.se", 3301, []string{"78.68", "90.224"}, false, false}},
	"PL": {{"Orange Polska Spolka Akcyjna", "orange.pl", 5617, []string{"83.24", "89.64"}, false, false}},
	"IN": {
		{"Bharti Airtel Ltd.", "airtel.in", 24560, []string{"122.171", "106.51"}, false, false},
		{"Reliance Jio Infocomm Limited", "jio.com", 55836, []string{"49.36", "157.47"}, false, false},
	},
	"SG": {{"Singapore Telecommunications Ltd", "singtel.com", 9506, []string{"116.14", "118.200"}, false, false}},
	"JP": {{"NTT Communications Corporation", "ocn.ne.jp", 4713, []string{"153.156", "114.160"}, false, false}},
	"AU": {{"Telstra Corporation Ltd", "telstra.net", 1221, []string{"101.160", "120.148"}, false, false}},
	"BR": {{"Telefonica Brasil S.A.", "vivo.com.br", 26599, []string{"177.94", "189.100"}, false, false}},
	"MX": {{"Uninet S.A. de C.V.", "telmex.com", 8151, []string{"187.188", "189.203"}, false, false}},
	"RO": {{"RCS & RDS SA", "rcs-rds.ro", 8708, []string{"86.120", "89.136"}, false, false}},
	"NG": {{"MTN NIGERIA Communication limited", "mtnnigeria.net", 29465, []string{"102.89", "105.112"}, false, false}},
	"VN": {{"Viettel Group", "viettel.vn", 7552, []string{"27.72", "113.185"}, false, false}},
	"ID": {{"PT Telekomunikasi Indonesia", "telkom.co.id", 7713, []string{"36.68", "114.124"}, false, false}},
}

// Office uplinks: business fibre from a carrier, one per office city.
var officeISPs = []isp{
	{"Zayo Bandwidth", "zayo.com", 6461, []string{"64.125", "208.185"}, false, false},
	{"Cogent Communications", "cogentco.com", 174, []string{"38.104", "38.140"}, false, false},
	{"Lumen Technologies", "lumen.com", 3356, []string{"4.14", "8.45"}, false, false},
}

// Where attackers come from.
var hostingISPs = []isp{
	{"DigitalOcean, LLC", "digitalocean.com", 14061, []string{"159.89", "167.99", "143.198"}, true, false},
	{"OVH SAS", "ovh.net", 16276, []string{"51.75", "141.94"}, true, false},
	{"Hetzner Online GmbH", "hetzner.com", 24940, []string{"88.198", "95.217"}, true, false},
	{"M247 Europe SRL", "m247.com", 9009, []string{"185.156", "89.46"}, true, true},
	{"Amazon.com, Inc.", "amazonaws.com", 14618, []string{"3.88", "54.86"}, true, false},
	{"The Constant Company, LLC", "vultr.com", 20473, []string{"45.77", "149.28"}, true, true},
}

type userAgent struct {
	raw, os, browser, device string
}

// Browsers employees use, roughly in the proportions of a mixed Mac and
// Windows office.
var userAgents = []userAgent{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mac OS X", "CHROME", "Computer"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mac OS X", "CHROME", "Computer"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Windows 10", "CHROME", "Computer"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Windows 10", "EDGE_CHROMIUM", "Computer"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Mac OS X", "SAFARI", "Computer"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Windows 10", "FIREFOX", "Computer"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Linux", "CHROME", "Computer"},
	{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Linux", "FIREFOX", "Computer"},
}

var mobileAgents = []userAgent{
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "iOS", "MOBILE_SAFARI", "Mobile"},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36", "Android", "CHROME", "Mobile"},
}

// Tools and headless browsers seen in credential attacks.
var attackAgents = []userAgent{
	{"python-requests/2.32.3", "Unknown", "UNKNOWN", "Unknown"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36", "Linux", "CHROME", "Computer"},
	{"curl/8.5.0", "Unknown", "UNKNOWN", "Unknown"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36", "Windows 10", "CHROME", "Computer"},
}

var firstNames = []string{
	"Ada", "Alan", "Amara", "Ana", "Arjun", "Ben", "Carmen", "Chen", "Chloe", "Daniel",
	"David", "Elena", "Emma", "Fatima", "Felix", "Grace", "Hana", "Hugo", "Isabel", "Ivan",
	"James", "Jin", "Julia", "Kai", "Kenji", "Laura", "Leo", "Lina", "Lucas", "Maya",
	"Mei", "Mohammed", "Nadia", "Noah", "Olivia", "Omar", "Priya", "Rafael", "Sara", "Sofia",
	"Tariq", "Thomas", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe",
}

var lastNames = []string{
	"Abe", "Adeyemi", "Alvarez", "Andersson", "Bauer", "Becker", "Brown", "Chen", "Costa", "Dubois",
	"Dvorak", "Fischer", "Garcia", "Gupta", "Hansen", "Ito", "Jansen", "Kaur", "Kim", "Kowalski",
	"Lee", "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "O'Brien",
	"Okafor", "Patel", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Walker",
	"Wang", "Weber", "Williams", "Wilson", "Yamada", "Zhang",
}

type department struct {
	name   string
	weight int
	// Start of the working day in local minutes after midnight, on average.
	start int
}

var departments = []department{
	{"Engineering", 30, 9*60 + 30},
	{"Sales", 16, 8*60 + 30},
	{"Customer Support", 12, 8 * 60},
	{"Marketing", 9, 9 * 60},
	{"Finance", 7, 8*60 + 30},
	{"People", 5, 9 * 60},
	{"IT", 6, 8 * 60},
	{"Legal", 3, 9 * 60},
	{"Operations", 7, 8*60 + 30},
	{"Product", 5, 9*60 + 15},
}

// appDef is an app in the catalog; depts limits who is assigned it (nil:
// everyone); sensitive apps ask for MFA again at sign-in.
type appDef struct {
	label, name, mode string
	depts             []string
	sensitive         bool
	weight            int // how often an assigned user opens it on a working day
}

var appCatalog = []appDef{
	{"Google Workspace", "google", "SAML_2_0", nil, false, 10},
	{"Slack", "slack", "SAML_2_0", nil, false, 9},
	{"Zoom", "zoomus", "SAML_2_0", nil, false, 6},
	{"Microsoft Office 365", "office365", "WS_FEDERATION", nil, false, 7},
	{"Atlassian Cloud", "atlassian", "SAML_2_0", nil, false, 6},
	{"Workday", "workday", "SAML_2_0", nil, true, 2},
	{"Salesforce.com", "salesforce", "SAML_2_0", []string{"Sales", "Customer Support", "Marketing", "Operations"}, false, 8},
	{"GitHub Enterprise Cloud", "githubcloud", "SAML_2_0", []string{"Engineering", "Product", "IT"}, false, 8},
	{"AWS IAM Identity Center", "amazon_aws_sso", "SAML_2_0", []string{"Engineering", "IT"}, true, 4},
	{"Box", "boxnet", "SAML_2_0", nil, false, 3},
	{"ServiceNow", "servicenow_app2", "SAML_2_0", []string{"IT", "Customer Support", "Operations"}, false, 5},
	{"Zendesk", "zendesk", "SAML_2_0", []string{"Customer Support"}, false, 9},
	{"DocuSign", "docusign", "SAML_2_0", []string{"Sales", "Legal", "Finance", "People"}, false, 2},
	{"NetSuite", "netsuite", "SAML_2_0", []string{"Finance"}, true, 6},
	{"Greenhouse", "greenhouse", "SAML_2_0", []string{"People"}, false, 6},
	{"Figma", "figma", "SAML_2_0", []string{"Product", "Marketing", "Engineering"}, false, 4},
	{"Datadog", "datadog", "SAML_2_0", []string{"Engineering", "IT"}, false, 4},
	{"PagerDuty", "pagerduty", "SAML_2_0", []string{"Engineering", "IT"}, false, 2},
	{"Tableau Cloud", "tableau_online", "SAML_2_0", []string{"Finance", "Sales", "Operations", "Marketing"}, false, 3},
	{"Okta Admin Console", "saasure", "OPENID_CONNECT", []string{"IT"}, true, 3},
	{"Expensify", "expensify", "SAML_2_0", nil, false, 1},
	{"Notion", "notion", "SAML_2_0", nil, false, 4},
	{"Snowflake", "snowflake", "SAML_2_0", []string{"Engineering", "Finance"}, true, 2},
	{"1Password", "onepassword", "OPENID_CONNECT", nil, false, 2},
}
