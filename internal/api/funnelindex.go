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

// StartFunnelIndex mounts FunnelIndexPath and starts building the
// server's funnel index (flows.Live) in the background, so that the first
// funnel a user opens is answered from it. serve calls it once it listens.
func StartFunnelIndex(s *Server) {
	live := s.live()
	s.route("GET "+FunnelIndexPath, auth.RoleViewer, func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, live.Status())
	})
	live.Start()
}

// live is the server's funnel index, the one GET /api/idlog/v1/funnels uses.
func (s *Server) live() *flows.Live {
	v, _ := liveIndexes.LoadOrStore(s, flows.NewLive(s.st))
	return v.(*flows.Live)
}
