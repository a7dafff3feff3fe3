//go:build tools

// Package tools pins VictoriaLogs, the peer `idlog bench --peer` compares
// idlog with, in a module of its own so that idlog's go.mod does not carry it.
package tools

import _ "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs"
