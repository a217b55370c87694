// Command hub is the 一网统管 data hub: it pulls the city's siloed party
// building, grid governance and city management systems into one canonical
// PostgreSQL model and serves it as one GraphQL schema.
//
// Package main is the command line: subcommands, their flags and help
// (cli.go). What a command runs — the store, the sources, the sync engine,
// the GraphQL handler and the HTTP server — is built by package app from
// the typed configuration.
package main

//go:generate go tool gqlgen generate
//go:generate go run ./graph/internal/execpatch graph/generated/generated.go

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ywtg/hub/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "hub:", err)
		stop()
		os.Exit(1)
	}
}

func migrateCmd(ctx context.Context, e *env, args []string) error {
	if _, err := e.flags("migrate", "apply database migrations and exit", args, nil); err != nil {
		return err
	}
	_, _, closeDB, err := app.OpenStore(ctx, e.cfg, e.log)
	if err != nil {
		return err
	}
	defer closeDB()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func serve(ctx context.Context, e *env, args []string) error {
	if _, err := e.flags("serve", "run the hub: store, sources, GraphQL API", args, nil); err != nil {
		return err
	}
	// Everything the configuration names is checked, and the address
	// bound, before PostgreSQL or any source starts.
	pre, err := app.Prepare(e.cfg, e.cfgErr, e.getenv, true)
	if err != nil {
		return err
	}
	return app.Serve(ctx, e.cfg, pre, e.log, e.stdout)
}

// syncCmd runs one synchronisation pass and exits, for cron-style
// deployments: `hub sync [--source NAME] [--full]`.
func syncCmd(ctx context.Context, e *env, args []string) error {
	var source string
	var full bool
	if _, err := e.flags("sync", "run one synchronisation pass of every source (or one), then resolve incidents and persons (left to a running hub that resolves), and exit", args, func(fs *flag.FlagSet) {
		fs.StringVar(&source, "source", "", "sync only this source")
		fs.BoolVar(&full, "full", false, "re-pull everything instead of the changes since the stored cursor")
	}); err != nil {
		return err
	}
	pre, err := app.Prepare(e.cfg, e.cfgErr, e.getenv, false)
	if err != nil {
		return err
	}
	return app.SyncOnce(ctx, e.cfg, pre, e.log, e.stdout, source, full)
}

// simulateCmd runs the demo source systems standalone until interrupted,
// printing their addresses and credentials.
func simulateCmd(ctx context.Context, e *env, args []string) error {
	var govAddr, o311Addr string
	if _, err := e.flags("simulate", "run the simulated source systems standalone until interrupted", args, func(fs *flag.FlagSet) {
		fs.StringVar(&govAddr, "gov-addr", "127.0.0.1:18081", "listen address of the governance API")
		fs.StringVar(&o311Addr, "open311-addr", "127.0.0.1:18082", "listen address of the Open311 server")
	}); err != nil {
		return err
	}
	return app.Simulate(ctx, e.cfg, e.log, e.stdout, govAddr, o311Addr)
}
