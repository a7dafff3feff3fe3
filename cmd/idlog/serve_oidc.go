package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/ui"
)

// oidcFlags are serve's sign-in settings: the OpenID Connect provider
// people sign in with, and how long their sessions last.
type oidcFlags struct {
	issuer, clientID, secretEnv string
	redirectURL, roleMap        string
	groupsClaim, scopes, name   string
	idle, maxAge                time.Duration
	noTokenSignIn               bool

	secret string
	roles  auth.RoleMap
}

func addOIDCFlags(fs *flag.FlagSet, f *oidcFlags) {
	fs.StringVar(&f.issuer, "oidc-issuer", "", "sign people in with this OpenID Connect `issuer` (https://ORG.okta.com, https://ORG.okta.com/oauth2/default, Entra ID, Google, Keycloak…)")
	fs.StringVar(&f.clientID, "oidc-client-id", "", "the OIDC app's client `id`")
	fs.StringVar(&f.secretEnv, "oidc-client-secret-env", "", "the environment `variable` holding the OIDC client secret (none: a public client, PKCE alone)")
	fs.StringVar(&f.redirectURL, "oidc-redirect-url", "", "the sign-in redirect `URL` registered at the provider (default: this server's https://HOST/signin/callback)")
	fs.StringVar(&f.roleMap, "oidc-role-map", "", "which provider groups get which idlog role: `GROUP=ROLE,…` (e.g. 'SecOps=analyst,IdentityAdmins=admin'; roles viewer, analyst, admin)")
	fs.StringVar(&f.groupsClaim, "oidc-groups-claim", "groups", "the ID token (or userinfo) `claim` that lists the person's groups")
	fs.StringVar(&f.scopes, "oidc-scopes", "openid,profile,email", "comma-separated `scopes` to ask for (Okta's org server needs 'groups' too)")
	fs.StringVar(&f.name, "oidc-name", "", "the sign-in button's `label` (default: the issuer's host)")
	fs.BoolVar(&f.noTokenSignIn, "oidc-only", false, "with --oidc-issuer: people sign in to the page only through the provider (no token form; API tokens still work for scripts)")
	fs.DurationVar(&f.idle, "session-idle", time.Hour, "end a page session unused for this `long`")
	fs.DurationVar(&f.maxAge, "session-max", 12*time.Hour, "end every page session this `long` after sign-in")
}

// check validates the flags together and reads the secret.
func (f *oidcFlags) check(getenv func(string) string) error {
	if f.idle <= 0 || f.maxAge <= 0 {
		return errors.New("--session-idle and --session-max must be positive")
	}
	if f.issuer == "" {
		if f.clientID != "" || f.roleMap != "" || f.secretEnv != "" || f.noTokenSignIn {
			return errors.New("--oidc-client-id, --oidc-role-map, --oidc-client-secret-env and --oidc-only need --oidc-issuer")
		}
		return nil
	}
	if !strings.HasPrefix(f.issuer, "https://") && !strings.HasPrefix(f.issuer, "http://127.0.0.1") && !strings.HasPrefix(f.issuer, "http://localhost") {
		return fmt.Errorf("--oidc-issuer %q: use an https URL", f.issuer)
	}
	if f.clientID == "" {
		return errors.New("--oidc-issuer needs --oidc-client-id")
	}
	if f.roleMap == "" {
		return errors.New("--oidc-issuer needs --oidc-role-map (e.g. 'SecOps=analyst,IdentityAdmins=admin'): without it nobody could sign in")
	}
	roles, err := auth.ParseRoleMap(f.roleMap)
	if err != nil {
		return fmt.Errorf("--oidc-role-map: %v", err)
	}
	f.roles = roles
	if f.secretEnv != "" {
		f.secret = getenv(f.secretEnv)
		if f.secret == "" {
			return fmt.Errorf("--oidc-client-secret-env %s: the variable is empty or unset", f.secretEnv)
		}
	}
	return nil
}

func (f *oidcFlags) provider(ctx context.Context) (*ui.OIDC, error) {
	var scopes []string
	for _, s := range strings.Split(f.scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return ui.NewOIDC(dctx, ui.OIDCConfig{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: f.secret,
		RedirectURL: f.redirectURL, Scopes: scopes, GroupsClaim: f.groupsClaim, Roles: f.roles, DisplayName: f.name})
}
