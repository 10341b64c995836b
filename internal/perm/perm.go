// Package perm decides what a user may do with a DocType or document, from
// the DocType's DocPerm rows and the user's roles (reference §7). Pure.
package perm

import "docstream/internal/meta"

// Types of rights.
const (
	Read   = "read"
	Write  = "write"
	Create = "create"
	Delete = "delete"
	Submit = "submit"
	Cancel = "cancel"
	Select = "select"
)

// Administrator bypasses every check; System Manager is an ordinary role.
const Administrator = "Administrator"

// User is who acts: a name and the set of roles.
type User struct {
	Name  string
	Roles map[string]bool
}

// IsAdmin reports whether u is the Administrator.
func (u User) IsAdmin() bool { return u.Name == Administrator }

// HasRole reports whether u has role (Administrator has all).
func (u User) HasRole(role string) bool { return u.IsAdmin() || u.Roles[role] }

// Can reports whether u has right ptype on dt. owner is the document's owner
// ("" for DocType-level checks: if_owner rows then grant the right, and lists
// are restricted to the user's own documents by the caller).
func Can(dt *meta.DocType, u User, ptype, owner string) bool {
	if u.IsAdmin() {
		return true
	}
	if (ptype == Submit || ptype == Cancel) && !dt.IsSubmittable {
		return false
	}
	for _, p := range dt.Permissions {
		if p.Permlevel != 0 || !u.Roles[p.Role] {
			continue
		}
		if p.IfOwner && owner != "" && owner != u.Name {
			continue
		}
		if right(p, ptype) {
			return true
		}
	}
	return false
}

// OnlyOwn reports whether u's right ptype on dt comes only from if_owner rows,
// so lists must be filtered to documents u owns.
func OnlyOwn(dt *meta.DocType, u User, ptype string) bool {
	if u.IsAdmin() {
		return false
	}
	own := false
	for _, p := range dt.Permissions {
		if p.Permlevel != 0 || !u.Roles[p.Role] || !right(p, ptype) {
			continue
		}
		if !p.IfOwner {
			return false
		}
		own = true
	}
	return own
}

func right(p meta.Perm, ptype string) bool {
	switch ptype {
	case Read:
		return p.Read
	case Select:
		return p.Select || p.Read
	case Write:
		return p.Write
	case Create:
		return p.Create
	case Delete:
		return p.Delete
	case Submit:
		return p.Submit
	case Cancel:
		return p.Cancel
	}
	return false
}
