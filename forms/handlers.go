package forms

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// MaxFormBodySize limits the body of PUT /admin/api/forms/{alias} (1 MiB):
// a schema may hold up to MaxNodes nodes, more than the storefront API's
// httpx.MaxBodyDefault allows.
const MaxFormBodySize = 1 << 20

// Handler serves forms to the storefront (GET) and to the admin panel (GET
// and PUT).
//
// An alias that no form can have (not [a-z0-9_-]{1,64}) is answered 400
// "invalid_alias" on every route rather than 404: it is a malformed request,
// and the admin panel learns at once why a PUT cannot create it.
type Handler struct {
	store  *Store
	logger *slog.Logger
}

// HandlerConfig configures a Handler.
type HandlerConfig struct {
	// Store holds the forms. Required.
	Store *Store
	// Logger receives internal errors. Defaults to a discarding logger.
	Logger *slog.Logger
}

// NewHandler returns the forms handlers over cfg.Store, or an error naming
// the field to fix.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("forms: HandlerConfig.Store is nil; pass the store made by forms.NewStore")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{store: cfg.Store, logger: cfg.Logger}, nil
}

// RegisterStorefrontRoutes registers the storefront's forms route on r
// (mounted under /api).
func (h *Handler) RegisterStorefrontRoutes(r *mux.Router) {
	r.HandleFunc("/forms/{alias}", h.handleStorefrontGet).Methods(http.MethodGet)
}

// RegisterAdminRoutes registers the admin forms routes on r (mounted under
// /admin/api, behind the host's admin auth).
func (h *Handler) RegisterAdminRoutes(r *mux.Router) {
	r.HandleFunc("/forms/{alias}", h.handleAdminGet).Methods(http.MethodGet)
	r.HandleFunc("/forms/{alias}", h.handleAdminPut).Methods(http.MethodPut)
}

// storefrontForm is a form as the storefront receives it: with the shop's
// time zone, in which its date rules read "today" as the server does.
type storefrontForm struct {
	Form
	TimeZone string `json:"time_zone"`
}

// handleStorefrontGet handles GET /api/forms/{alias}.
func (h *Handler) handleStorefrontGet(w http.ResponseWriter, r *http.Request) {
	f, err := h.store.Get(r.Context(), mux.Vars(r)["alias"])
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	loc, err := h.store.Location(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storefrontForm{Form: f, TimeZone: loc.String()})
}

// handleAdminGet handles GET /admin/api/forms/{alias}.
func (h *Handler) handleAdminGet(w http.ResponseWriter, r *http.Request) {
	f, err := h.store.Get(r.Context(), mux.Vars(r)["alias"])
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, f)
}

// formUpdate is the body of PUT /admin/api/forms/{alias}. Alias is
// optional and, when present, must equal the path's, so that the panel may
// send back what GET answered.
type formUpdate struct {
	Alias  *string         `json:"alias"`
	Title  string          `json:"title"`
	Schema json.RawMessage `json:"schema"`
}

// handleAdminPut handles PUT /admin/api/forms/{alias}: it creates the form
// or replaces its title and schema, and answers the form as stored (200 in
// both cases). Malformed JSON, unknown top-level fields or a schema that is
// not an array are a 400; a bad title or bad nodes a 422 with a message per
// field: "title", "schema" (the schema as a whole) and "schema[i].prop"
// (node i's property prop, or "schema[i]" for the node as a whole).
func (h *Handler) handleAdminPut(w http.ResponseWriter, r *http.Request) {
	alias := mux.Vars(r)["alias"]
	if err := ValidateAlias(alias); err != nil {
		h.writeError(w, r, err)
		return
	}
	var body formUpdate
	if err := httpx.DecodeJSON(w, r, &body, MaxFormBodySize); err != nil {
		h.writeError(w, r, err)
		return
	}
	if body.Alias != nil && *body.Alias != alias {
		h.writeError(w, r, tcerr.Invalidf("The alias in the body (%q) differs from the one in the path (%q).", *body.Alias, alias))
		return
	}
	nodes, err := DecodeSchema(body.Schema)
	var se *SchemaError
	if err != nil && !errors.As(err, &se) {
		msg := strings.TrimPrefix(err.Error(), "forms: decoding schema: ")
		h.writeError(w, r, tcerr.Invalidf("Invalid schema: %s.", strings.TrimSuffix(msg, ".")))
		return
	}
	if se != nil {
		// Report the title too, so that one answer lists every problem.
		if msg := titleProblem(strings.TrimSpace(body.Title)); msg != "" {
			err = errors.Join(&titleError{msg: msg}, se)
		}
		h.writeError(w, r, err)
		return
	}
	saved, err := h.store.Put(r.Context(), Form{Alias: alias, Title: body.Title, Schema: nodes})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.logger.InfoContext(r.Context(), "form saved", "alias", alias, "nodes", len(saved.Schema))
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, saved)
}

// writeError maps the store's errors to statuses in one place; anything it
// does not know goes to httpx.WriteError (an *tcerr.Error as it is, the
// rest as a logged 500).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *SchemaError
	var te *titleError
	titleErr := errors.As(err, &te)
	schemaErr := errors.As(err, &se)
	switch {
	case errors.Is(err, ErrInvalidAlias):
		err = tcerr.Errorf(tcerr.Invalid, "invalid_alias",
			"A form alias is 1 to 64 characters of a-z, 0-9, _ and -.")
	case errors.Is(err, ErrFormNotFound):
		err = tcerr.NotFoundf("No form is named %q.", mux.Vars(r)["alias"])
	case titleErr || schemaErr:
		fields := map[string]string{}
		var parts []string
		if titleErr {
			fields["title"] = te.msg
			parts = append(parts, te.msg)
		}
		if schemaErr {
			for _, p := range se.Problems {
				key := problemField(p)
				msg := sentence(p.Message)
				if prev, ok := fields[key]; ok {
					msg = prev + " " + msg
				}
				fields[key] = msg
			}
			parts = append(parts, sentence(strings.TrimPrefix(se.Error(), "forms: ")))
		}
		err = tcerr.Fields("The form is invalid. "+strings.Join(parts, " "), fields)
	}
	httpx.WriteError(w, r, h.logger, err)
}

// schemaProps are a node's JSON properties, which problem messages start
// with when they are about one of them.
var schemaProps = []string{"$formkit", "name", "label", "placeholder", "help", "validation", "options", "value", "labels", "placeholders", "helps", "option_labels"}

// problemField returns the field key of a schema problem: "schema" for the
// schema as a whole, "schema[i].prop" when the message is about property
// prop of node i, else "schema[i]". It reads the start of the messages
// DecodeSchema and ValidateSchema write; TestHandler's field-key cases pin
// each kind.
func problemField(p Problem) string {
	if p.Index < 0 {
		return "schema"
	}
	node := fmt.Sprintf("schema[%d]", p.Index)
	msg := p.Message
	if rest, ok := strings.CutPrefix(msg, "unknown field "); ok {
		// encoding/json names the field quoted: unknown field "classes"
		var name string
		if json.Unmarshal([]byte(rest), &name) == nil && name != "" {
			return node + "." + name
		}
		return node
	}
	for _, prefix := range []string{"missing ", "unknown ", "duplicate "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	first, _, _ := strings.Cut(msg, " ")
	first = strings.TrimSuffix(first, ":")
	for _, prop := range schemaProps {
		if first == prop {
			return node + "." + prop
		}
	}
	if strings.Contains(p.Message, "option") {
		return node + ".options"
	}
	return node
}

// sentence capitalizes msg's first letter and ends it with a period.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	r, size := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[size:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
