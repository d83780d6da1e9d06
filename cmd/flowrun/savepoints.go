package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/executor/jetstream"
)

func init() { register(savepointsCmd) }

func savepointsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "savepoints",
		Short: "List or drop the operator state jobs saved at a graceful stop",
		Long: `A live run stopped with SIGINT or SIGTERM saves its operators' state (open
windows, tables, join buffers, models) as a savepoint, which the next run of
the job on the same store restores and deletes. These verbs show and drop
them; "flowrun run --fresh-state" drops a job's savepoint as it starts.`,
		Example: "  flowrun savepoints list\n  flowrun savepoints drop fraud-detection",
	}
	cmd.AddCommand(savepointsListCmd(), savepointsDropCmd())
	return cmd
}

// openSavepoints connects to the store and opens its savepoints (nil when
// the store has none).
func (f *regFlags) openSavepoints(ctx context.Context) (*jetstream.Savepoints, func(), error) {
	conn, closeFn, err := f.connect(ctx, "", "flowrun-savepoints", regLogger())
	if err != nil {
		return nil, nil, err
	}
	sp, err := conn.Savepoints(ctx, false)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return sp, closeFn, nil
}

func savepointsListCmd() *cobra.Command {
	var rf regFlags
	var of outputFlag
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the stored savepoints",
		Example: "  flowrun savepoints list\n  flowrun savepoints list -o json --nats nats://127.0.0.1:4222",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := of.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			sp, closeFn, err := rf.openSavepoints(ctx)
			if err != nil {
				return err
			}
			defer closeFn()
			list := []jetstream.SavepointInfo{}
			if sp != nil {
				if list, err = sp.List(ctx); err != nil {
					return err
				}
			}
			text := func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "JOB\tBYTES\tSAVED")
				for _, s := range list {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Job, s.Bytes, s.Modified.UTC().Format(time.RFC3339))
				}
				tw.Flush()
			}
			return of.print(cmd.OutOrStdout(), list, text)
		},
	}
	rf.add(cmd)
	of.add(cmd)
	return cmd
}

func savepointsDropCmd() *cobra.Command {
	var rf regFlags
	cmd := &cobra.Command{
		Use:     "drop JOB",
		Short:   "Drop a job's savepoint: its next run starts with empty operator state",
		Example: "  flowrun savepoints drop fraud-detection",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sp, closeFn, err := rf.openSavepoints(ctx)
			if err != nil {
				return err
			}
			defer closeFn()
			if sp == nil {
				return userError{fmt.Errorf("no savepoint of %s: the store has none", args[0])}
			}
			list, err := sp.List(ctx)
			if err != nil {
				return err
			}
			for _, s := range list {
				if s.Job == args[0] {
					if err := sp.Delete(ctx, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "dropped the savepoint of %s (%d bytes)\n", s.Job, s.Bytes)
					return nil
				}
			}
			return userError{fmt.Errorf("no savepoint of %s", args[0])}
		},
	}
	rf.add(cmd)
	return cmd
}
