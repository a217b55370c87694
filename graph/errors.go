package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ywtg/hub/canon"
)

// errorPresenter gives every error an extensions.code. Application errors
// keep their message; anything else is logged once here, with the request
// id, and shown as INTERNAL without internals.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var appErr *canon.Error
		switch {
		case errors.As(err, &appErr):
			gqlErr.Message = appErr.Message
			setCode(gqlErr, appErr.Code)
			if appErr.Code == canon.StoreUnavailable {
				markStoreUnavailable(ctx) // 503 + Retry-After (httpspec.go)
			}
		case gqlErr.Extensions["code"] != nil:
			// Parser and validation errors already carry a code
			// (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED).
		default:
			log.ErrorContext(ctx, "graphql resolver failed", "path", gqlErr.Path.String(), "err", err)
			gqlErr.Message = "internal error"
			setCode(gqlErr, canon.Internal)
		}
		return gqlErr
	}
}

func setCode(e *gqlerror.Error, c canon.Code) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(c)
}

// recoverFunc turns a resolver panic into a logged INTERNAL error.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql resolver panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &canon.Error{Code: canon.Internal, Message: "internal error"}
	}
}
