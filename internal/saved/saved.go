// Package saved keeps named searches: a filter, keywords, a relative
// range and the columns to show, owned by one person and optionally shared
// with the team. They live in a file of the data directory (searches.json),
// next to the tokens and sessions; each has a stable id that its share
// link names, so renaming or editing a search keeps its link.
package saved

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/atomicfile"
)

// FileName is the saved searches file inside the data directory.
const FileName = "searches.json"

// Search is one saved search.
type Search struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Filter  string   `json:"filter"`
	Q       string   `json:"q"`
	Range   string   `json:"range"` // relative: 15m, 1h, 24h, 7d, 30d, 90d
	Columns []string `json:"columns"`
	Shared  bool     `json:"shared"`
	// Owner is the idlog user id of its author; OwnerName is for display.
	Owner     string    `json:"owner"`
	OwnerName string    `json:"ownerName"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// ErrNotFound means no search with that id is visible to the caller.
var ErrNotFound = errors.New("saved search not found")

// ErrNotOwner means the caller may see the search but not change it.
var ErrNotOwner = errors.New("only the search's owner (or an admin) may change it")

var rangeRE = regexp.MustCompile(`^[1-9][0-9]{0,3}[mhd]$`)

// Validate checks a search's fields and returns every problem, one per
// field, for Okta's errorCauses. The filter itself is checked by the
// caller (the API parses it with the filter package).
func (s *Search) Validate() []string {
	var out []string
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || len(s.Name) > 200 {
		out = append(out, "name: is required, at most 200 characters.")
	}
	if s.Range == "" {
		s.Range = "24h"
	}
	if !rangeRE.MatchString(s.Range) {
		out = append(out, "range: must be a relative range such as 15m, 24h or 7d.")
	}
	if len(s.Q) > 4096 {
		out = append(out, "q: is longer than 4096 bytes.")
	}
	if len(s.Columns) > 50 {
		out = append(out, "columns: at most 50.")
	}
	for _, c := range s.Columns {
		if len(c) > 200 || strings.TrimSpace(c) == "" {
			out = append(out, "columns: each is a non-empty field path.")
			break
		}
	}
	if s.Columns == nil {
		s.Columns = []string{}
	}
	return out
}

// Store is the searches file of a data directory.
type Store struct {
	path string
	mu   sync.Mutex
	now  func() time.Time
}

// Open returns the searches of data directory dir.
func Open(dir string) *Store {
	return &Store{path: filepath.Join(dir, FileName), now: time.Now}
}

func (st *Store) read() ([]Search, error) {
	b, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Searches []Search `json:"searches"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", st.path, err)
	}
	return f.Searches, nil
}

func (st *Store) write(list []Search) error {
	b, err := json.MarshalIndent(struct {
		Searches []Search `json:"searches"`
	}{list}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(st.path, append(b, '\n'))
}

// visible: one's own searches and every shared one.
func visible(s Search, user string) bool { return s.Owner == user || s.Shared }

// List returns the searches user may see, by name.
func (st *Store) List(user string) ([]Search, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	all, err := st.read()
	if err != nil {
		return nil, err
	}
	out := []Search{}
	for _, s := range all {
		if visible(s, user) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Search) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

// Get returns one search user may see.
func (st *Store) Get(id, user string) (Search, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	all, err := st.read()
	if err != nil {
		return Search{}, err
	}
	for _, s := range all {
		if s.ID == id && visible(s, user) {
			return s, nil
		}
	}
	return Search{}, ErrNotFound
}

// Create stores a new search owned by user; s must be valid.
func (st *Store) Create(s Search, user, userName string) (Search, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	all, err := st.read()
	if err != nil {
		return Search{}, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Search{}, err
	}
	now := st.now().UTC().Truncate(time.Second)
	s.ID, s.Owner, s.OwnerName, s.Created, s.Updated = "ss"+hex.EncodeToString(b[:]), user, userName, now, now
	return s, st.write(append(all, s))
}

// Update replaces the editable fields of a search. The owner may change
// it; admin true lets an admin change any visible one.
func (st *Store) Update(id string, in Search, user string, admin bool) (Search, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	all, err := st.read()
	if err != nil {
		return Search{}, err
	}
	for i, s := range all {
		if s.ID != id || !visible(s, user) {
			continue
		}
		if s.Owner != user && !admin {
			return Search{}, ErrNotOwner
		}
		s.Name, s.Filter, s.Q, s.Range, s.Columns, s.Shared = in.Name, in.Filter, in.Q, in.Range, in.Columns, in.Shared
		s.Updated = st.now().UTC().Truncate(time.Second)
		all[i] = s
		return s, st.write(all)
	}
	return Search{}, ErrNotFound
}

// Delete removes a search, under the same rule as Update.
func (st *Store) Delete(id, user string, admin bool) (Search, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	all, err := st.read()
	if err != nil {
		return Search{}, err
	}
	for i, s := range all {
		if s.ID != id || !visible(s, user) {
			continue
		}
		if s.Owner != user && !admin {
			return Search{}, ErrNotOwner
		}
		return s, st.write(slices.Delete(all, i, i+1))
	}
	return Search{}, ErrNotFound
}
