package api

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// errorKind says how a refusal maps to an HTTP status. Handlers never pick a
// status themselves: they return an *Error and respondError maps its kind,
// so every answer the server gives has Okta's error shape.
type errorKind int

const (
	kindBadRequest errorKind = iota
	kindUnauthorized
	kindForbidden
	kindNotFound
	kindMethod
	kindTooLarge
	kindRateLimited
	kindTimeout
	kindInternal
	kindUnavailable
)

// status is the one place where kinds become HTTP statuses.
func (k errorKind) status() int {
	switch k {
	case kindBadRequest:
		return http.StatusBadRequest
	case kindUnauthorized:
		return http.StatusUnauthorized
	case kindForbidden:
		return http.StatusForbidden
	case kindNotFound:
		return http.StatusNotFound
	case kindMethod:
		return http.StatusMethodNotAllowed
	case kindTooLarge:
		return http.StatusRequestEntityTooLarge
	case kindRateLimited:
		return http.StatusTooManyRequests
	case kindTimeout, kindInternal:
		return http.StatusInternalServerError
	case kindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error is a refused request: an Okta error code and summary, optional
// causes, and the kind that decides the status. Err, when set, is logged but
// never shown to the client.
type Error struct {
	kind    errorKind
	Code    string
	Summary string
	Causes  []string
	Err     error
}

func (e *Error) Error() string { return e.Code + ": " + e.Summary }
func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status the error is answered with.
func (e *Error) Status() int { return e.kind.status() }

// Okta's error codes, as its error catalog names them.
const (
	codeValidation   = "E0000001" // Api validation failed
	codeNotFound     = "E0000007" // Not found
	codeInternal     = "E0000009" // Internal Server Error / took too long
	codeInvalidToken = "E0000011" // Invalid token provided
	codeForbidden    = "E0000006" // no permission
	codeRateLimit    = "E0000047" // rate limit
	codeMethod       = "E0000022" // the endpoint does not support the method
	codeTooLarge     = "E0000001" // Okta has no size code; a validation failure is the closest
	codeUnavailable  = "E0000010" // Service is in read only mode / unavailable
)

// validationError is Okta's E0000001 for one parameter.
func validationError(param, msg string) *Error {
	var c causes
	c.add(param, msg)
	return c.err().(*Error)
}

var (
	errInvalidToken = &Error{kind: kindUnauthorized, Code: codeInvalidToken, Summary: "Invalid token provided"}
	errForbidden    = &Error{kind: kindForbidden, Code: codeForbidden, Summary: "You do not have permission to perform the requested action"}
	errRateLimited  = &Error{kind: kindRateLimited, Code: codeRateLimit, Summary: "API call exceeded rate limit due to too many requests."}
	errTimeout      = &Error{kind: kindTimeout, Code: codeInternal, Summary: "Your last request took too long to complete. This is likely due to a load issue on our side. We've logged the issue and will look into it. Please try again."}
	errNotFound     = &Error{kind: kindNotFound, Code: codeNotFound, Summary: "Not found: Resource not found"}
	errMethod       = &Error{kind: kindMethod, Code: codeMethod, Summary: "The endpoint does not support the provided HTTP method"}
	errShuttingDown = &Error{kind: kindUnavailable, Code: codeUnavailable, Summary: "The server is shutting down. Please try again."}
)

func internalError(err error) *Error {
	return &Error{kind: kindInternal, Code: codeInternal, Summary: "Internal Server Error", Err: err}
}

// errorBody is Okta's error object.
type errorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// respondError writes err in Okta's error shape. Errors that are not an
// *Error are internal: logged, and answered without their text.
func respondError(w http.ResponseWriter, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = internalError(err)
	}
	id := newErrorID()
	if e.kind == kindInternal || e.kind == kindTimeout {
		// The client sees only "Internal Server Error"; the cause goes here,
		// under the errorId the client can quote.
		cause := err.Error()
		if e.Err != nil {
			cause = e.Err.Error()
		}
		log.Error("request failed", "errorId", id, "code", e.Code, "err", cause)
	}
	body := errorBody{ErrorCode: e.Code, ErrorSummary: e.Summary, ErrorLink: e.Code, ErrorID: id, ErrorCauses: []errorCause{}}
	for _, c := range e.Causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{ErrorSummary: c})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status())
	_ = json.NewEncoder(w).Encode(body)
}

// newErrorID returns an id shaped like Okta's ("oae" and 22 letters and
// digits), so log lines and client reports can be matched.
func newErrorID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [22]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "oae" + string(b[:])
}
