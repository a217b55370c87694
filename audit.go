package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ywtg/hub/app"
	"github.com/ywtg/hub/store"
)

// auditCmd checks the audit log: `audit verify` walks the hash chain and
// reports the first broken link (exit status 1 if there is one).
func auditCmd(ctx context.Context, e *env, args []string) error {
	const summary = "audit verify: check the hash chain of the audit log and report the first broken link"
	if len(args) == 0 || args[0] != "verify" {
		if _, err := e.flags("audit", summary, args, nil); err != nil {
			return err
		}
		return errors.New("audit needs a subcommand: verify")
	}
	if _, err := e.flags("audit verify", summary, args[1:], nil); err != nil {
		return err
	}
	st, _, closeDB, err := app.OpenStore(ctx, e.cfg, e.log)
	if err != nil {
		return err
	}
	defer closeDB()
	brk, n, err := st.VerifyAudit(store.Unscoped(ctx)) // the whole log, for the operator
	if err != nil {
		return err
	}
	if brk != nil {
		return fmt.Errorf("audit log broken at entry %d (after %d entries checked): %s", brk.ID, n, brk.Reason)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries, every link verified\n", n)
	return nil
}
