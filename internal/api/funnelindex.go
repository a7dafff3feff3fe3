package api

import (
	"net/http"

	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/flows"
)

// FunnelIndexPath answers how far the funnel index is built:
// {"ready":false,"building":true,"read":120000,"total":480000}. The page
// shows it while the first build runs.
const FunnelIndexPath = "/api/idlog/v1/funnels/index"

// MountFunnelIndex mounts FunnelIndexPath, which reports how far the
// server's funnel index (flows.Live) is built. serve mounts it without
// building: the first funnel asked starts the build in the background
// (and is answered from the events meanwhile), because the build reads
// every stored event and the index holds every flow instance in memory,
// a cost that grows with the history and that a server nobody asks for
// funnels should not pay at start (docs/decisions.md, "serve's open and
// memory").
func MountFunnelIndex(s *Server) {
	live := s.live()
	s.route("GET "+FunnelIndexPath, auth.RoleViewer, func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, live.Status())
	})
}

// StartFunnelIndex is MountFunnelIndex, and starts building the index in
// the background at once, so that the first funnel is answered from it.
func StartFunnelIndex(s *Server) {
	MountFunnelIndex(s)
	s.live().Start()
}

// live is the server's funnel index, the one GET /api/idlog/v1/funnels uses.
func (s *Server) live() *flows.Live {
	v, _ := liveIndexes.LoadOrStore(s, flows.NewLive(s.st))
	return v.(*flows.Live)
}
