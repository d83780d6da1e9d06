package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
)

func init() { register(explainCmd) }

func explainCmd() *cobra.Command {
	var (
		output   string
		physical bool
		raw      bool
		trace    bool
	)
	c := &cobra.Command{
		Use:   "explain JOB",
		Short: "Print the plan of a job: logical (default) or physical",
		Long: `Explain binds and plans a job file offline and prints its plan.

The logical plan (the default) is one tree per sink and trained model: stages,
SQL operators with their bound expressions (#index:column), and the schema of
each stage's output (* marks the event-time column, # the key columns, ? a
nullable column). Shared stages are printed once and referenced as [n].

--physical prints the operators the executor runs: node ids, stages,
parallelism, keyed state and, on each edge, the routing (forward, hash(keys),
gather). -o json prints the physical plan as JSON (ops carry an "op" member;
expressions are printed as text); -o dot prints it in Graphviz syntax
(render with: flowrun explain --physical -o dot JOB | dot -Tsvg > plan.svg).

Problems of the job are printed like flowrun validate does, and then the exit
status is 1.`,
		Example: `  flowrun explain pipelines/fraud-detection/pipeline.yaml
  flowrun explain --physical pipelines/nexmark/q5.yaml
  flowrun explain --physical -o json job.yaml | jq '.nodes[].op.op'
  flowrun explain -o dot job.yaml | dot -Tpng > plan.png
  flowrun explain --trace pipelines/nexmark/q2.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "text", "json", "dot":
			default:
				return usageError{fmt.Errorf("bad -o %q: want text, json or dot", output)}
			}
			ps, ds := spec.Load(args[0])
			printDiagnostics(cmd, ds)
			if ds.HasErrors() {
				return userError{errSilent}
			}
			var opts []planner.Option
			if raw {
				opts = append(opts, planner.WithRules())
			}
			out := cmd.OutOrStdout()
			for i, p := range ps {
				if i > 0 && output == "text" {
					fmt.Fprintln(out)
				}
				if trace {
					steps, ds := planner.Trace(p)
					if steps == nil {
						printDiagnostics(cmd, ds)
						return userError{errSilent}
					}
					for j, st := range steps {
						name := "as bound"
						if st.Rule != "" {
							name = "after " + st.Rule
						}
						if j > 0 {
							fmt.Fprintln(out)
						}
						fmt.Fprintf(out, "== %s ==\n%s", name, st.Plan)
					}
					continue
				}
				if output == "text" && !physical {
					lp, ds := planner.Logical(p, opts...)
					if lp == nil {
						printDiagnostics(cmd, ds)
						return userError{errSilent}
					}
					fmt.Fprint(out, lp.String())
					continue
				}
				g, ds := planner.Plan(p, opts...)
				if g == nil {
					printDiagnostics(cmd, ds)
					return userError{errSilent}
				}
				switch output {
				case "json":
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					if err := enc.Encode(g); err != nil {
						return err
					}
				case "dot":
					if err := g.WriteDot(out); err != nil {
						return err
					}
				default:
					fmt.Fprint(out, g.String())
				}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&output, "output", "o", "text", "output format: text, json or dot (json and dot print the physical plan)")
	f.BoolVar(&physical, "physical", false, "print the physical plan (operators, parallelism, routing, state)")
	f.BoolVar(&raw, "raw", false, "skip the rewrite rules: print the plan as bound")
	f.BoolVar(&trace, "trace", false, "print the logical plan as bound and after each rewrite rule")
	return c
}

// printDiagnostics writes diagnostics with source snippets to stderr.
func printDiagnostics(cmd *cobra.Command, ds spec.Diagnostics) {
	if len(ds) == 0 {
		return
	}
	cache := map[string][]byte{}
	ds.Format(cmd.ErrOrStderr(), func(file string) []byte {
		if b, ok := cache[file]; ok {
			return b
		}
		b, _ := os.ReadFile(file)
		cache[file] = b
		return b
	})
}
