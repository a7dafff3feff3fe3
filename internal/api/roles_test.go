package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/ui"
)

// publicRoutes are the only routes that may answer without a caller. A
// route added to the router table as public must be added here on purpose.
var publicRoutes = map[string]bool{
	"GET /healthz": true,
	"/{$}":         true, // the UI: it checks its own session and redirects to sign-in
	"/signin":      true,
	"/signin/":     true,
	"/signout":     true,
	ui.ReportPath:  true,
	"/assets/":     true,
	ui.AuditPath:   true, // checks the admin role itself, and reads through the API
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// TestEveryRouteEveryRole walks the server's own router table (with the
// web page mounted, as idlog serve does): every route must name a role or
// be a known public route, and every role must be let through exactly when
// the route's role allows it, with a 403 in Okta's shape naming the
// missing role otherwise. A route registered without a role fails here.
func TestEveryRouteEveryRole(t *testing.T) {
	e := newEnv(t, api.Options{})
	ui.New(auth.OpenSessions(e.dir, e.tokens), nil).Mount(e.srv)
	callers := []struct {
		name, token string
		p           auth.Principal
	}{
		{"viewer", e.read, auth.Principal{Role: auth.RoleViewer}},
		{"analyst", e.analyst, auth.Principal{Role: auth.RoleAnalyst}},
		{"admin", e.admin, auth.Principal{Role: auth.RoleAdmin}},
		{"ingest token", e.write, auth.Principal{Ingest: true}},
	}
	routes := e.srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("the router table has %d routes", len(routes))
	}
	for _, rt := range routes {
		key := strings.TrimSpace(rt.Method + " " + rt.Path)
		if rt.Public {
			if !publicRoutes[key] {
				t.Errorf("%s is public (no sign-in needed) but not in publicRoutes: give it a role, or list it here on purpose", key)
			}
			continue
		}
		if rt.Role == "" {
			t.Errorf("%s has no role: every route must name the role it needs", key)
		}
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		path := strings.ReplaceAll(pathParam.ReplaceAllString(rt.Path, "x"), "{$}", "")
		// Without credentials: 401.
		resp, body := e.do(method, "", path, strings.NewReader(""), nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d %s, want 401", key, resp.StatusCode, body)
		}
		for _, c := range callers {
			resp, body := e.do(method, c.token, path, strings.NewReader(""), nil)
			allowed := c.p.Allows(rt.Role)
			switch {
			case allowed && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized):
				t.Errorf("%s as %s: %d %s, want it let through (route needs %q)", key, c.name, resp.StatusCode, body, rt.Role)
			case !allowed && resp.StatusCode != http.StatusForbidden:
				t.Errorf("%s as %s: %d %s, want 403 (route needs %q)", key, c.name, resp.StatusCode, body, rt.Role)
			case !allowed:
				er := wantError(t, resp, body, 403, "E0000006")
				if len(er.ErrorCauses) != 1 || !strings.Contains(er.ErrorCauses[0].ErrorSummary, string(rt.Role)) {
					t.Errorf("%s as %s: the 403 does not name the role %q: %+v", key, c.name, rt.Role, er)
				}
			}
		}
	}
}

// TestRoleLadder checks what each role allows, independently of routes.
func TestRoleLadder(t *testing.T) {
	tests := []struct {
		p     auth.Principal
		allow []auth.Role
		deny  []auth.Role
	}{
		{auth.Principal{Role: auth.RoleViewer}, []auth.Role{auth.RoleViewer, auth.RoleAnyone}, []auth.Role{auth.RoleAnalyst, auth.RoleAdmin, auth.RoleIngest, ""}},
		{auth.Principal{Role: auth.RoleAnalyst}, []auth.Role{auth.RoleViewer, auth.RoleAnalyst}, []auth.Role{auth.RoleAdmin, auth.RoleIngest}},
		{auth.Principal{Role: auth.RoleAdmin}, []auth.Role{auth.RoleViewer, auth.RoleAnalyst, auth.RoleAdmin, auth.RoleIngest}, []auth.Role{""}},
		{auth.Principal{Ingest: true}, []auth.Role{auth.RoleIngest, auth.RoleAnyone}, []auth.Role{auth.RoleViewer, auth.RoleAdmin}},
	}
	for _, tc := range tests {
		for _, r := range tc.allow {
			if !tc.p.Allows(r) {
				t.Errorf("%+v does not allow %q", tc.p, r)
			}
		}
		for _, r := range tc.deny {
			if tc.p.Allows(r) {
				t.Errorf("%+v allows %q", tc.p, r)
			}
		}
	}
}
