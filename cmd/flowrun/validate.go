package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	// The planner registers its binder with spec.RegisterCheck, so that
	// validate also reports SQL name and type errors.
	_ "github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
)

func init() { register(validateCmd) }

// validateReport is the -o json output of flowrun validate.
type validateReport struct {
	Valid       bool             `json:"valid"`
	Files       int              `json:"files"`
	Pipelines   []string         `json:"pipelines"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Diagnostics spec.Diagnostics `json:"diagnostics"`
}

func validateCmd() *cobra.Command {
	var (
		output                     string
		maxFile                    int64
		maxNodes, maxDepth, maxSQL int
	)
	c := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check job files offline: schema, SQL, expressions, references, types",
		Long: `Validate checks job files without connecting to anything. PATH is a job
file or a directory, walked recursively for *.yaml and *.yml files (directories
named tests and testdata are skipped). Every problem is reported, each as
file:line:col with the source line and a caret, followed by a summary.

Exit status: 0 when every file is valid (warnings allowed), 1 when there is an
error, 2 on bad usage.`,
		Example: `  flowrun validate pipelines/
  flowrun validate pipelines/fraud-detection/pipeline.yaml
  flowrun validate -o json job.yaml
  flowrun validate --max-file-size=16777216 big-job.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("bad -o %q: want text or json", output)}
			}
			opts := []spec.Option{spec.WithMaxFileSize(maxFile), spec.WithMaxNodes(maxNodes), spec.WithMaxDepth(maxDepth), spec.WithMaxSQLLength(maxSQL)}
			files, ds := spec.Files(args...)
			var pipelines []*spec.Pipeline
			lp, lds := spec.LoadWith(files, opts)
			pipelines = append(pipelines, lp...)
			ds = append(ds, lds...)
			ds.Sort()
			rep := validateReport{Valid: !ds.HasErrors(), Files: len(files), Errors: ds.Count(spec.Error), Warnings: ds.Count(spec.Warning), Diagnostics: ds}
			rep.Pipelines = []string{}
			for _, p := range pipelines {
				rep.Pipelines = append(rep.Pipelines, p.Metadata.Name)
			}
			if rep.Diagnostics == nil {
				rep.Diagnostics = spec.Diagnostics{}
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				writeValidateText(out, ds, rep)
			}
			if ds.HasErrors() {
				return userError{errSilent}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	f.Int64Var(&maxFile, "max-file-size", spec.DefaultMaxFileSize, "largest job file in bytes")
	f.IntVar(&maxNodes, "max-yaml-nodes", spec.DefaultMaxNodes, "most YAML nodes of a file with aliases expanded")
	f.IntVar(&maxDepth, "max-depth", spec.DefaultMaxDepth, "deepest nesting of mappings and lists")
	f.IntVar(&maxSQL, "max-sql-length", spec.DefaultMaxSQLLength, "longest SQL text or expression in bytes")
	return c
}

// writeValidateText prints the diagnostics with snippets and a summary
// line such as "3 files, 4 pipelines: 2 errors, 1 warning".
func writeValidateText(w io.Writer, ds spec.Diagnostics, rep validateReport) {
	cache := map[string][]byte{}
	ds.Format(w, func(file string) []byte {
		if b, ok := cache[file]; ok {
			return b
		}
		b, err := os.ReadFile(file)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			b = nil
		}
		cache[file] = b
		return b
	})
	status := "ok"
	if rep.Errors > 0 || rep.Warnings > 0 {
		status = fmt.Sprintf("%s, %s", plural(rep.Errors, "error"), plural(rep.Warnings, "warning"))
	}
	fmt.Fprintf(w, "%s, %s: %s\n", plural(rep.Files, "file"), plural(len(rep.Pipelines), "pipeline"), status)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
