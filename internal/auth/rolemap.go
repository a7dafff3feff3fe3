package auth

import (
	"fmt"
	"strings"
)

// RoleMap maps identity-provider groups to idlog roles
// (--oidc-role-map 'SecOps=analyst,IdentityAdmins=admin').
type RoleMap map[string]Role

// ParseRoleMap reads "Group=role,Group=role". Group names are matched
// exactly (Okta's are case-sensitive); a group may appear once.
func ParseRoleMap(s string) (RoleMap, error) {
	m := RoleMap{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndex(part, "=")
		if i <= 0 {
			return nil, fmt.Errorf("role map entry %q: want GROUP=ROLE (e.g. SecOps=analyst)", part)
		}
		group := strings.TrimSpace(part[:i])
		r, err := ParseRole(part[i+1:])
		if err != nil {
			return nil, fmt.Errorf("role map entry %q: %v", part, err)
		}
		if _, dup := m[group]; dup {
			return nil, fmt.Errorf("role map: group %q appears twice", group)
		}
		m[group] = r
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("the role map is empty: give at least one GROUP=ROLE")
	}
	return m, nil
}

// RoleOf returns the highest role any of groups maps to, or "".
func (m RoleMap) RoleOf(groups []string) Role {
	var r Role
	for _, g := range groups {
		r = Higher(r, m[g])
	}
	return r
}
