package spec

import (
	"fmt"
	"strings"
)

// Suggest returns the candidate closest to s by edit distance (ignoring
// case), or "" when none is close enough to be a likely misspelling (or s
// is itself a candidate). The planner's hints use it too.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := EditDistance(ls, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if len(s) >= 8 {
		limit = 3
	}
	if best == "" || bestD > limit || bestD == 0 && best == s {
		return ""
	}
	return best
}

// didYouMean returns the hint text for a likely misspelling of s, or "".
func didYouMean(s string, candidates []string) string {
	if c := Suggest(s, candidates); c != "" {
		return fmt.Sprintf("did you mean %q?", c)
	}
	return ""
}

// EditDistance is the Levenshtein distance between a and b in bytes
// (strings over 64 bytes are only compared for equality).
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
