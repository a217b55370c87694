package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
)

// TrustedDocuments is the set of operations a trusted-documents deployment
// runs, by the SHA-256 of their text.
type TrustedDocuments map[string]string

// LoadTrustedDocuments reads every *.graphql file of a directory.
func LoadTrustedDocuments(dir string) (TrustedDocuments, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.graphql"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("trusted documents: no *.graphql files in %s", dir)
	}
	docs := TrustedDocuments{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("trusted documents: %w", err)
		}
		sum := sha256.Sum256(b)
		docs[hex.EncodeToString(sum[:])] = string(b)
	}
	return docs, nil
}

// policy is a gqlgen extension applying per-principal operation rules:
// in trusted-documents mode only registered operations run (administrators
// excepted), sent either as text or as extensions.persistedQuery.sha256Hash;
// introspection is allowed only for the configured roles.
type policy struct {
	trusted       TrustedDocuments // nil: any operation
	introspection []auth.Role      // nil: every role
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*policy)(nil)

func (p *policy) ExtensionName() string                   { return "OperationPolicy" }
func (p *policy) Validate(graphql.ExecutableSchema) error { return nil }

func (p *policy) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if p.trusted == nil {
		return nil
	}
	if pr := auth.From(ctx); pr != nil && pr.Role == auth.Admin {
		return nil
	}
	if raw.Query != "" {
		sum := sha256.Sum256([]byte(raw.Query))
		if _, ok := p.trusted[hex.EncodeToString(sum[:])]; ok {
			return nil
		}
		return forbidden("this deployment runs registered operations only; the operation's SHA-256 is not registered")
	}
	if ext, ok := raw.Extensions["persistedQuery"].(map[string]any); ok {
		if h, ok := ext["sha256Hash"].(string); ok {
			if q, ok := p.trusted[strings.ToLower(h)]; ok {
				raw.Query = q
				delete(raw.Extensions, "persistedQuery")
				return nil
			}
		}
	}
	return forbidden("this deployment runs registered operations only; send a registered operation or its sha256Hash")
}

func (p *policy) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if p.introspection == nil {
		return nil
	}
	pr := auth.From(ctx)
	if pr != nil && !slices.Contains(p.introspection, pr.Role) {
		opCtx.DisableIntrospection = true
	}
	return nil
}

func forbidden(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(canon.Forbidden)}}
}

// persistedQueries is gqlgen's automatic persisted queries with the codes
// of the protocol on its refusals: PERSISTED_QUERY_NOT_FOUND for a hash it
// does not know (the client then sends the text), BAD_USER_INPUT for a
// malformed extension, an unsupported version or a hash that does not
// match the text sent with it. gqlgen leaves the latter without a code,
// which would present them as INTERNAL.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		err.Message = "persisted query: " + err.Message
		setCode(err, canon.BadUserInput)
	}
	return err
}
