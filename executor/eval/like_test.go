package eval

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// likeRegexp is the oracle: LIKE translated to an anchored regular
// expression.
func likeRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\\':
			if i+1 < len(rs) {
				i++
				b.WriteString(regexp.QuoteMeta(string(rs[i])))
			} else {
				b.WriteString(regexp.QuoteMeta(`\`))
			}
		case '%':
			b.WriteString(`.*`)
		case '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func TestLikeAgainstRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := []rune{'a', 'b', 'é', '%', '_', '\\'}
	gen := func(n int, pat bool) string {
		var b strings.Builder
		for range rng.IntN(n) {
			r := alpha[rng.IntN(len(alpha))]
			if !pat && (r == '%' || r == '_' || r == '\\') && rng.IntN(3) > 0 {
				r = 'a'
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	for range 20000 {
		p, s := gen(7, true), gen(9, false)
		if got, want := CompileLike(p).Match(s), likeRegexp(p).MatchString(s); got != want {
			t.Fatalf("%q LIKE %q = %v, want %v", s, p, got, want)
		}
	}
}
