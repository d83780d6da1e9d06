package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// subcommands are registered by each verb's file in its init function, so
// that verbs live in their own files and never in a shared list.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "flowrun",
		Short: "Declarative real-time ML pipelines over NATS JetStream",
		Long: `flowrun runs YAML job files that hold streaming SQL and ML stages
over NATS JetStream. With no --nats flag it starts an embedded JetStream server,
so everything works on a fresh machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:     "version",
			Short:   "Print the flowrun version",
			Example: "  flowrun version",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				v := version
				if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
					for _, s := range bi.Settings {
						if s.Key == "vcs.revision" && len(s.Value) >= 12 {
							v = "dev-" + s.Value[:12]
						}
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "flowrun %s\n", v)
				return nil
			},
		}
	})
}
