package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/ywtg/hub/app"
	"github.com/ywtg/hub/web"
)

// command is a subcommand of the hub binary.
type command struct {
	name, summary string
	// env lists the environment variables the command reads; nil: all of
	// them. Its help shows these, and only their problems stop it.
	env []string
	// preflight: the command checks what the configuration names (see
	// app.Prepare), and reports the problems of single variables with those.
	preflight bool
	run       func(ctx context.Context, e *env, args []string) error
}

// env is what every subcommand gets from main.
type env struct {
	cfg    app.Config
	log    *slog.Logger
	stdout io.Writer
	stderr io.Writer
	// getenv resolves the variables a sources file names for its secrets
	// (app.Prepare); the hub's own variables are all in cfg.
	getenv func(string) string
	// cfgErr are the problems of single variables, for the preflight
	// checks (app.Prepare) to report with their own.
	cfgErr error
}

// storeEnv are the variables of the commands that only open the store.
var storeEnv = []string{"DATABASE_URL", "HUB_DATA_DIR", "HUB_LOG_LEVEL"}

func commands() []command {
	return []command{
		{"serve", "run the hub: store, sources, GraphQL API (default)", nil, true, serve},
		{"migrate", "apply database migrations and exit", storeEnv, false, migrateCmd},
		{"apikey", "create, list or revoke API keys", storeEnv, false, apikeyCmd},
		{"audit", "verify the hash chain of the audit log", storeEnv, false, auditCmd},
		{"sync", "run one synchronisation pass and exit (--source NAME, --full)", append(slices.Clone(storeEnv),
			"HUB_SOURCES", "HUB_REGIONS", "HUB_PII_KEY", "HUB_DEMO_SCALE", "HUB_SEED", "HUB_SYNC_INTERVAL", "HUB_DEMO_LIVE_RATE"), true, syncCmd},
		{"simulate", "run the simulated source systems standalone", append(slices.Clone(storeEnv), "HUB_DEMO_SCALE", "HUB_SEED"), false, simulateCmd},
		{"help", "show the help of the hub or of one command: help [COMMAND]", []string{}, false, nil},
	}
}

// commandNamed finds a subcommand.
func commandNamed(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// reads reports whether the command reads the variable.
func (c command) reads(name string) bool {
	return c.env == nil || slices.Contains(c.env, name)
}

// usage is the help of the hub: its commands and every variable.
func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: hub [command] [flags]\n\nThe 一网统管 data hub: one GraphQL schema over the city's party-building,\ngrid-governance and city-management systems.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nEnvironment:\n")
	printEnv(w, command{})
	fmt.Fprintf(w, "\nRun 'hub help COMMAND' or 'hub COMMAND --help' for a command's flags and variables.\n")
}

// printEnv lists the variables a command reads, with their defaults.
func printEnv(w io.Writer, c command) {
	for _, v := range app.EnvVars {
		if !c.reads(v.Name) {
			continue
		}
		def := v.Default
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(w, "  %-26s %s (default: %s)\n", v.Name, v.Help, def)
	}
}

// flags parses a command's flags; --help prints the command's usage, its
// flags (if it has any) and the variables it reads.
func (e *env) flags(name, summary string, args []string, define func(fs *flag.FlagSet)) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if define != nil {
		define(fs)
	}
	fs.Usage = func() {
		w := e.stdout
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		synopsis := name
		if n > 0 {
			synopsis += " [flags]"
		}
		fmt.Fprintf(w, "Usage: hub %s\n\n%s.\n", synopsis, summary)
		if n > 0 {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(e.stderr)
		}
		c, _ := commandNamed(strings.Fields(name)[0])
		if c.env == nil || len(c.env) > 0 {
			fmt.Fprintf(w, "\nEnvironment:\n")
			printEnv(w, c)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return fs, nil
}

// wantsHelp reports whether the arguments ask for help (before a "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// run is the hub's command line: the command (serve by default), its
// flags, and the configuration from getenv, validated before the command
// starts anything.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && wantsHelp(args[:1]) {
		usage(stdout)
		return nil
	}
	if name == "help" {
		if len(args) == 0 || args[0] == "help" {
			usage(stdout)
			return nil
		}
		// help COMMAND [SUB] is COMMAND [SUB] --help.
		name, args = args[0], append(slices.Clone(args[1:]), "--help")
	}
	c, ok := commandNamed(name)
	if !ok || c.run == nil {
		usage(stderr)
		return fmt.Errorf("unknown command %q (see 'hub help')", name)
	}
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, log: slog.New(slog.DiscardHandler)}
	if wantsHelp(args) {
		// Flags are parsed before anything else runs, so the command
		// prints its help and stops there.
		if err := c.run(ctx, e, args); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	}
	cfg, err := app.LoadConfig(getenv)
	if err = c.configProblems(err); err != nil && !c.preflight {
		return fmt.Errorf("configuration: %w", err)
	}
	e.cfg, e.cfgErr = cfg, err
	e.log = slog.New(web.LogHandler(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))
	err = c.run(ctx, e, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// configProblems keeps the problems of loadConfig that concern variables
// the command reads (each problem starts with its variable's name).
func (c command) configProblems(err error) error {
	if err == nil || c.env == nil {
		return err
	}
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else {
		all = []error{err}
	}
	var keep []error
	for _, p := range all {
		name, _, _ := strings.Cut(p.Error(), " ")
		name = strings.TrimSuffix(name, ":")
		if !isEnvVar(name) || c.reads(name) {
			keep = append(keep, p)
		}
	}
	return errors.Join(keep...)
}

// isEnvVar reports whether name is one of the hub's variables.
func isEnvVar(name string) bool {
	for _, v := range app.EnvVars {
		if v.Name == name {
			return true
		}
	}
	return false
}

// printTable prints rows as columns aligned by display width: a Chinese
// character takes two cells of a terminal, which text/tabwriter (counting
// runes) does not know, so names like 长虹社区 pushed the later columns out
// of line.
func printTable(w io.Writer, rows [][]string) error {
	if len(rows) == 0 {
		return nil
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i < len(r)-1 {
				line.WriteString(runewidth.FillRight(c, widths[i]+2))
			} else {
				line.WriteString(c)
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(line.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}
