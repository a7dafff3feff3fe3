package auth

import (
	"errors"
	"strings"
)

// Role is what a caller may do. The three roles a person or token holds
// form a ladder, each allowing everything the one below it does:
//
//	viewer   read events, flows, funnels and alerts
//	analyst  + saved searches, alert status, exports
//	admin    + tokens, retention, prune, rules, users, the audit trail
//
// Two more values only appear as what a route needs: RoleIngest (POST
// events: API tokens with Ingest, and admins) and RoleAnyone (any caller
// that authenticated at all).
type Role string

const (
	RoleViewer  Role = "viewer"
	RoleAnalyst Role = "analyst"
	RoleAdmin   Role = "admin"

	RoleIngest Role = "ingest"
	RoleAnyone Role = "any"
)

// Roles are the roles a caller can hold, lowest first.
var Roles = []Role{RoleViewer, RoleAnalyst, RoleAdmin}

var rank = map[Role]int{RoleViewer: 1, RoleAnalyst: 2, RoleAdmin: 3}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if rank[r] > 0 {
		return r, nil
	}
	return "", errors.New("unknown role " + strings.TrimSpace(s) + " (use viewer, analyst or admin)")
}

// Scope is the old name of a permission: tokens made before roles carry
// scopes. ScopeRead is the viewer role, ScopeAdmin the admin role and
// ScopeWrite the ingest permission; tokens.json files that name scopes keep
// working (see principalOf).
type Scope = Role

const (
	ScopeRead  = RoleViewer
	ScopeWrite = RoleIngest
	ScopeAdmin = RoleAdmin
)

// legacyScopes maps the scope names of tokens files written before roles.
var legacyScopes = map[string]Role{"logs.read": RoleViewer, "logs.write": RoleIngest, "admin": RoleAdmin}

// ParseScope reads an old scope name (logs.read, logs.write, admin) or a
// role name, or "ingest".
func ParseScope(s string) (Role, error) {
	s = strings.TrimSpace(s)
	if r, ok := legacyScopes[s]; ok {
		return r, nil
	}
	if Role(s) == RoleIngest {
		return RoleIngest, nil
	}
	r, err := ParseRole(s)
	if err != nil {
		return "", errors.New("unknown role or scope " + s + " (use viewer, analyst, admin or ingest; logs.read, logs.write still work)")
	}
	return r, nil
}

// fromGrants turns a list of grants (roles, RoleIngest, or old scope
// names) into the highest role and the ingest permission.
func fromGrants(grants []string) (role Role, ingest bool) {
	for _, g := range grants {
		r, err := ParseScope(g)
		if err != nil {
			continue // an unknown grant gives nothing
		}
		if r == RoleIngest {
			ingest = true
			continue
		}
		if rank[r] > rank[role] {
			role = r
		}
	}
	return role, ingest
}

// Grants describes a role and ingest permission for lists: "analyst",
// "viewer+ingest", "ingest".
func Grants(role Role, ingest bool) string {
	var parts []string
	if role != "" {
		parts = append(parts, string(role))
	}
	if ingest {
		parts = append(parts, string(RoleIngest))
	}
	return strings.Join(parts, "+")
}

// Higher returns the higher of two roles ("" is below viewer).
func Higher(a, b Role) Role {
	if rank[b] > rank[a] {
		return b
	}
	return a
}
