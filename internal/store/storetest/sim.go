package storetest

import (
	"time"

	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
)

// Simulated returns up to max events of a simulated org (attacks included),
// deterministic for the seed, in the simulator's published order.
func Simulated(cfg simulate.Config, max int) ([]store.Event, error) {
	if cfg.End.IsZero() {
		cfg.End = time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
	}
	var out []store.Event
	errEnough := errStop{}
	err := simulate.New(cfg).Run(func(raw []byte) error {
		if max > 0 && len(out) >= max {
			return errEnough
		}
		out = append(out, rawEvent(string(raw)))
		return nil
	})
	if err != nil && err != error(errEnough) {
		return nil, err
	}
	return out, nil
}

type errStop struct{}

func (errStop) Error() string { return "enough events" }
