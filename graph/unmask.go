package graph

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// auditTrail collects the unmasked reads of one request; they are written
// to the audit log before the response leaves (see auditor).
type auditTrail struct {
	mu       sync.Mutex
	subjects map[string]bool
	fields   map[string]bool
}

type auditKey struct{}

func (t *auditTrail) add(subject, field string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.subjects[subject] = true
	t.fields[field] = true
}

// unmask returns the full value of a personal field when the caller may
// see it, recording the read; it refuses otherwise.
func (r *Resolver) unmask(ctx context.Context, p *store.Person, field string, value func() (string, error)) (string, error) {
	principal := auth.From(ctx)
	if principal == nil || !principal.HasScope("pii:read") {
		return "", canon.Errorf(canon.Forbidden, "unmasking needs the scope pii:read")
	}
	if purpose(ctx) == "" {
		return "", canon.Errorf(canon.BadUserInput, "unmasking needs an X-Purpose header stating why the data is read (e.g. X-Purpose: 矛盾纠纷调解回访); the purpose is recorded in the audit log")
	}
	trail, ok := ctx.Value(auditKey{}).(*auditTrail)
	if !ok {
		return "", canon.Errorf(canon.Internal, "audit trail unavailable")
	}
	v, err := value()
	if err != nil {
		return "", err
	}
	trail.add(hex.EncodeToString(p.IDHash), field)
	markVolatile(ctx)
	return v, nil
}

func purpose(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	return strings.TrimSpace(graphql.GetOperationContext(ctx).Headers.Get("X-Purpose"))
}

// sealed opens a sealed value with the hub's PII keys.
func (r *Resolver) sealed(b []byte) func() (string, error) {
	return func() (string, error) {
		if r.PII == nil || len(b) == 0 {
			return "", canon.Errorf(canon.NotFound, "the full value is not kept for this person")
		}
		v, err := r.PII.Open(b)
		if err != nil {
			return "", err
		}
		return v, nil
	}
}

// auditor is a gqlgen extension: it gives each operation an audit trail and
// writes it to the hash-chained audit log before the response is returned.
// If the log cannot be written, the response is withheld.
type auditor struct {
	store     *store.Store
	requestID func(context.Context) string
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*auditor)(nil)

func (a *auditor) ExtensionName() string                   { return "AuditTrail" }
func (a *auditor) Validate(graphql.ExecutableSchema) error { return nil }

func (a *auditor) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	trail := &auditTrail{subjects: map[string]bool{}, fields: map[string]bool{}}
	resp := next(context.WithValue(ctx, auditKey{}, trail))
	trail.mu.Lock()
	defer trail.mu.Unlock()
	if len(trail.subjects) == 0 {
		return resp
	}
	e := store.AuditEntry{Action: "unmask", Purpose: purpose(ctx), Subjects: sortedKeys(trail.subjects), Fields: sortedKeys(trail.fields)}
	if p := auth.From(ctx); p != nil {
		e.Principal = p.ID
	}
	if a.requestID != nil {
		e.RequestID = a.requestID(ctx)
	}
	if err := a.store.AppendAudit(ctx, []store.AuditEntry{e}); err != nil {
		graphql.AddError(ctx, &canon.Error{Code: canon.Internal, Message: "the read could not be audited, so it is withheld"})
		return &graphql.Response{Errors: graphql.GetErrors(ctx)}
	}
	return resp
}
