package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/saved"
)

// Saved searches (analysts and admins):
//
//	GET    /api/idlog/v1/searches        the caller's own and the shared ones
//	POST   /api/idlog/v1/searches        save one {name, filter, q, range, columns, shared}
//	GET    /api/idlog/v1/searches/{id}   one (its share link is /report/system_log_2?saved=ID)
//	PUT    /api/idlog/v1/searches/{id}   change it (owner or admin)
//	DELETE /api/idlog/v1/searches/{id}   delete it (owner or admin)
//
// Viewers may list and open shared searches (GET) but not save any.

func (s *Server) searchRoutes() {
	s.route("GET /api/idlog/v1/searches", auth.RoleViewer, s.listSearches)
	s.audited("POST /api/idlog/v1/searches", auth.RoleAnalyst, audit.SearchCreate, s.createSearch)
	s.route("GET /api/idlog/v1/searches/{id}", auth.RoleViewer, s.getSearch)
	s.audited("PUT /api/idlog/v1/searches/{id}", auth.RoleAnalyst, audit.SearchUpdate, s.updateSearch)
	s.audited("DELETE /api/idlog/v1/searches/{id}", auth.RoleAnalyst, audit.SearchDelete, s.deleteSearch)
}

// searchView is a saved search as the API shows it: with its share link.
type searchView struct {
	saved.Search
	Link string `json:"link"`
}

func (s *Server) view(r *http.Request, x saved.Search) searchView {
	return searchView{Search: x, Link: s.baseURL(r) + "/report/system_log_2?saved=" + x.ID}
}

func (s *Server) searchStore() (*saved.Store, error) {
	if s.opts.Searches == nil {
		return nil, errNotFound
	}
	return s.opts.Searches, nil
}

func searchError(err error, id string) error {
	switch {
	case errors.Is(err, saved.ErrNotFound):
		return &Error{kind: kindNotFound, Code: codeNotFound, Summary: "Not found: Resource not found: " + id + " (SavedSearch)"}
	case errors.Is(err, saved.ErrNotOwner):
		return &Error{kind: kindForbidden, Code: codeForbidden, Summary: errForbidden.Summary, Causes: []string{err.Error() + "."}}
	}
	return internalError(err)
}

func (s *Server) listSearches(w http.ResponseWriter, r *http.Request) error {
	st, err := s.searchStore()
	if err != nil {
		return err
	}
	list, err := st.List(auth.FromContext(r.Context()).ID)
	if err != nil {
		return internalError(err)
	}
	out := make([]searchView, len(list))
	for i, x := range list {
		out[i] = s.view(r, x)
	}
	return writeJSON(w, out)
}

func (s *Server) getSearch(w http.ResponseWriter, r *http.Request) error {
	st, err := s.searchStore()
	if err != nil {
		return err
	}
	x, err := st.Get(r.PathValue("id"), auth.FromContext(r.Context()).ID)
	if err != nil {
		return searchError(err, r.PathValue("id"))
	}
	return writeJSON(w, s.view(r, x))
}

// readSearch decodes and checks a request body: every field problem is
// one errorCause, and the filter and q must parse as GET /api/v1/logs
// would parse them.
func readSearch(r *http.Request) (saved.Search, error) {
	var in saved.Search
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, validationError("body", "must be a JSON object with name, filter, q, range, columns and shared ("+err.Error()+").")
	}
	if problems := in.Validate(); len(problems) > 0 {
		c := causes{list: problems}
		return in, c.err()
	}
	if _, _, err := parseFilter(in.Filter, in.Q); err != nil {
		return in, err
	}
	return in, nil
}

func (s *Server) createSearch(w http.ResponseWriter, r *http.Request) error {
	st, err := s.searchStore()
	if err != nil {
		return err
	}
	in, err := readSearch(r)
	if err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	x, err := st.Create(in, p.ID, p.Name)
	if err != nil {
		return internalError(err)
	}
	s.auditSearch(r, x)
	w.Header().Set("Location", s.baseURL(r)+"/api/idlog/v1/searches/"+x.ID)
	w.WriteHeader(http.StatusCreated)
	return writeJSON(w, s.view(r, x))
}

func (s *Server) updateSearch(w http.ResponseWriter, r *http.Request) error {
	st, err := s.searchStore()
	if err != nil {
		return err
	}
	in, err := readSearch(r)
	if err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	x, err := st.Update(r.PathValue("id"), in, p.ID, p.Allows(auth.RoleAdmin))
	if err != nil {
		return searchError(err, r.PathValue("id"))
	}
	s.auditSearch(r, x)
	return writeJSON(w, s.view(r, x))
}

func (s *Server) deleteSearch(w http.ResponseWriter, r *http.Request) error {
	st, err := s.searchStore()
	if err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	x, err := st.Delete(r.PathValue("id"), p.ID, p.Allows(auth.RoleAdmin))
	if err != nil {
		return searchError(err, r.PathValue("id"))
	}
	s.auditSearch(r, x)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// auditSearch puts the saved search into the request's audit record.
func (s *Server) auditSearch(r *http.Request, x saved.Search) {
	if rec := auditRecordOf(r); rec != nil {
		rec.Targets = append(rec.Targets, audit.Target{ID: x.ID, Type: "SavedSearch", Name: x.Name})
		rec.Debug["savedFilter"] = x.Filter
		rec.Debug["savedQ"] = x.Q
		rec.Debug["savedRange"] = x.Range
		rec.Debug["shared"] = x.Shared
	}
}
