package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/udf"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "functions [NAME]",
			Short: "Print the reference of the built-in SQL and expression functions",
			Long: `Without NAME, lists every built-in scalar function, aggregate and syntax
construct with its signature. With NAME (any case; aliases such as SUBSTR work
too), prints its description, NULL behaviour and examples. The same reference
is in docs/functions.md.`,
			Example: `  flowrun functions
  flowrun functions substring
  flowrun functions APPROX_PERCENTILE`,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) > 1 {
					return usageError{fmt.Errorf("functions takes at most one NAME, got %d (see %s --help)", len(args), cmd.CommandPath())}
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				out := cmd.OutOrStdout()
				if len(args) == 0 {
					return udf.WriteIndex(out)
				}
				text, ok := udf.Describe(args[0])
				if !ok {
					msg := fmt.Sprintf("unknown function %q", args[0])
					if s := closestNames(args[0], udf.Names()); len(s) > 0 {
						msg += "; did you mean " + strings.Join(s, " or ") + "?"
					}
					return userError{fmt.Errorf("%s (flowrun functions lists them all)", msg)}
				}
				_, err := fmt.Fprint(out, text)
				return err
			},
		}
	})
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
		d := editDistance(name, n)
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

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
