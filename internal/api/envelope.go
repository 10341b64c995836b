package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"docstream/internal/errs"
)

// Status maps error kinds to Frappe's HTTP codes (frappe/exceptions.py). This
// is the only place that does; the desk uses it too.
func Status(k errs.Kind) int {
	switch k {
	case errs.KindValidation:
		return http.StatusExpectationFailed // 417, as Frappe answers every ValidationError
	case errs.KindNotFound:
		return http.StatusNotFound
	case errs.KindPermission:
		return http.StatusForbidden
	case errs.KindAuth:
		return http.StatusUnauthorized
	case errs.KindConflict:
		return http.StatusConflict
	case errs.KindBadRequest:
		return http.StatusBadRequest
	case errs.KindRateLimit:
		return http.StatusTooManyRequests
	case errs.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// RawMessage is a method's answer already encoded as JSON, as writeJSON
// would encode it: it is sent as the message unchanged, without being
// decoded, checked and encoded again (encoding/json does all three to a
// json.Marshaler's output). The method vouches that it is valid JSON.
type RawMessage []byte

// writeRawMessage writes {"message": raw} as writeJSON would.
func writeRawMessage(w http.ResponseWriter, raw RawMessage) {
	const head, tail = `{"message":`, "}\n"
	w.Header().Set("Content-Type", "application/json")
	// Known in advance, so the answer is not chunked, and a client can
	// size its buffer once.
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(raw)+len(tail)))
	w.WriteHeader(http.StatusOK)
	// In three writes, not copied into one buffer: a page of update logs
	// is a few hundred kilobytes.
	_, _ = io.WriteString(w, head)
	_, _ = w.Write(raw)
	_, _ = io.WriteString(w, tail)
}

// WriteError renders err in Frappe's error envelope: exc_type, exception, exc
// (FrappeClient raises only when it sees exc) and _server_messages (a JSON
// string of a list of JSON strings). Internal errors are logged with an id
// and shown only as "Internal error".
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, ok := errs.As(err)
	if !ok {
		id := requestID(r)
		if log != nil {
			log.Error("internal error", "err", err, "request_id", id, "path", r.URL.Path)
		}
		e = errs.New(errs.KindInternal, "Exception", "Internal error (request %s)", id)
	}
	code := Status(e.Kind)
	msg, _ := json.Marshal(map[string]any{"message": e.Message, "title": "Message", "indicator": "red", "raise_exception": 1})
	sm, _ := json.Marshal([]string{string(msg)})
	body := map[string]any{
		"exc_type":         e.ExcType,
		"_server_messages": string(sm),
	}
	if code != http.StatusNotFound {
		line := "frappe.exceptions." + e.ExcType + ": " + e.Message
		exc, _ := json.Marshal([]string{line})
		body["exception"] = line
		body["exc"] = string(exc)
	}
	if e.Kind == errs.KindAuth {
		body["message"] = e.Message
	}
	writeJSON(w, code, body)
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) < 64 {
		return id
	}
	if id, ok := r.Context().Value(ridKey{}).(string); ok {
		return id
	}
	return "-"
}

type ridKey struct{}
