package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

func init() {
	register(func() *cobra.Command {
		var output string
		cmd := &cobra.Command{
			Use:   "functions [NAME]",
			Short: "Print the reference of the built-in SQL and expression functions",
			Long: `Without NAME, lists every built-in scalar function, aggregate and syntax
construct with its signature. With NAME (any case; aliases such as SUBSTR work
too), prints its description, NULL behaviour and examples. The same reference
is in docs/functions.md; -o json prints it as data for editors and tools.`,
			Example: `  flowrun functions
  flowrun functions substring
  flowrun functions APPROX_PERCENTILE
  flowrun functions -o json | jq '.[] | select(.category == "Time") | .name'`,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) > 1 {
					return usageError{fmt.Errorf("functions takes at most one NAME, got %d (see %s --help)", len(args), cmd.CommandPath())}
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				if output != "text" && output != "json" {
					return usageError{fmt.Errorf("-o %q: want text or json", output)}
				}
				out := cmd.OutOrStdout()
				name := ""
				if len(args) == 1 {
					name = args[0]
					if _, ok := udf.Describe(name); !ok {
						msg := fmt.Sprintf("unknown function %q", name)
						if s := closestNames(name, udf.Names()); len(s) > 0 {
							msg += "; did you mean " + strings.Join(s, " or ") + "?"
						}
						return userError{fmt.Errorf("%s (flowrun functions lists them all)", msg)}
					}
				}
				if output == "json" {
					return writeFunctionsJSON(out, name)
				}
				if name == "" {
					return udf.WriteIndex(out)
				}
				text, _ := udf.Describe(name)
				_, err := fmt.Fprint(out, text)
				return err
			},
		}
		cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
		return cmd
	})
}

// functionDoc is one entry of `flowrun functions -o json`.
type functionDoc struct {
	Name       string       `json:"name"`
	Kind       string       `json:"kind"` // scalar, aggregate or syntax
	Category   string       `json:"category"`
	Signature  string       `json:"signature"`
	Doc        string       `json:"doc"`
	Nulls      string       `json:"nulls,omitempty"`
	Aliases    []string     `json:"aliases,omitempty"`
	SQLForms   []string     `json:"sqlForms,omitempty"`
	ErrorBound string       `json:"errorBound,omitempty"`
	Examples   []exampleDoc `json:"examples"`
}

type exampleDoc struct {
	Call   string   `json:"call"`
	Input  []string `json:"input,omitempty"`
	Result string   `json:"result"`
}

// writeFunctionsJSON prints the reference (or the entry of name, when set)
// as a JSON array.
func writeFunctionsJSON(w io.Writer, name string) error {
	var docs []functionDoc
	for _, f := range udf.Funcs() {
		d := functionDoc{Name: f.Name, Kind: "scalar", Category: f.Category, Signature: f.Signature, Doc: f.Doc,
			Nulls: f.Nulls.String(), Aliases: f.Aliases, SQLForms: f.SQLForms}
		for _, ex := range f.Examples {
			d.Examples = append(d.Examples, exampleDoc{Call: ex.Call, Result: ex.Want})
		}
		docs = append(docs, d)
	}
	for _, s := range udf.Syntaxes() {
		d := functionDoc{Name: s.Name, Kind: "syntax", Category: s.Category, Signature: s.Signature, Doc: s.Doc}
		for _, ex := range s.Examples {
			d.Examples = append(d.Examples, exampleDoc{Call: ex.Call, Result: ex.Want})
		}
		docs = append(docs, d)
	}
	for _, a := range udf.Aggregates() {
		d := functionDoc{Name: a.Name, Kind: "aggregate", Category: "Aggregate", Signature: a.Signature, Doc: a.Doc,
			SQLForms: a.SQLForms, ErrorBound: a.ErrorBound}
		for _, ex := range a.Examples {
			e := exampleDoc{Call: ex.Call, Result: ex.Want}
			for _, v := range ex.Input {
				e.Input = append(e.Input, v.String())
			}
			d.Examples = append(d.Examples, e)
		}
		docs = append(docs, d)
	}
	if name != "" {
		key := strings.ToUpper(name)
		if f, ok := udf.Lookup(name); ok {
			key = f.Name // an alias
		}
		var one []functionDoc
		for _, d := range docs {
			if d.Name == key {
				one = append(one, d)
			}
		}
		docs = one
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(docs)
}

// closestNames returns the names nearest to name by edit distance (at most
// a third of its length, and at least 2), up to three of them.
func closestNames(name string, names []string) []string {
	name = strings.ToUpper(name)
	limit := max(2, len(name)/3)
	type cand struct {
		n string
		d int
	}
	var cs []cand
	for _, n := range names {
		d := spec.EditDistance(name, n)
		if strings.HasPrefix(n, name) && len(name) >= 3 {
			d = min(d, 1)
		} else if strings.Contains(n, name) && len(name) >= 4 {
			d = min(d, limit)
		}
		if d <= limit {
			cs = append(cs, cand{n, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].n < cs[j].n
	})
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].n)
	}
	return out
}
