package eval

import (
	"strings"
	"unicode/utf8"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

func (c *compiler) like(e *planner.Like) (Fn, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return nil, err
	}
	not := e.Not
	if lit, ok := e.Pattern.(*planner.Literal); ok {
		if lit.Value.K == udf.TypeNull {
			return func(row udf.Row) (udf.Value, error) {
				_, err := x(row)
				return udf.Null, err
			}, nil
		}
		if lit.Value.K != udf.TypeString {
			return nil, exprErr("LIKE pattern must be a string, got %s", lit.Value.K)
		}
		m := CompileLike(lit.Value.S)
		return func(row udf.Row) (udf.Value, error) {
			v, err := x(row)
			if err != nil || v.K == udf.TypeNull {
				return udf.Null, err
			}
			if v.K != udf.TypeString {
				return udf.Null, exprErr("LIKE of a %s value", v.K)
			}
			return udf.Bool(m.Match(v.S) != not), nil
		}, nil
	}
	p, err := c.compile(e.Pattern)
	if err != nil {
		return nil, err
	}
	var lastPat string
	var last *Like
	return func(row udf.Row) (udf.Value, error) {
		v, pv, null, err := both(row, x, p)
		if null || err != nil {
			return udf.Null, err
		}
		if v.K != udf.TypeString || pv.K != udf.TypeString {
			return udf.Null, exprErr("LIKE of %s and %s values", v.K, pv.K)
		}
		if last == nil || pv.S != lastPat {
			last, lastPat = CompileLike(pv.S), pv.S
		}
		return udf.Bool(last.Match(v.S) != not), nil
	}, nil
}

// Like is a compiled SQL LIKE pattern: % matches any sequence of characters
// (including none), _ exactly one character (a Unicode code point), and a
// backslash makes the next character literal. Matching is case-sensitive.
type Like struct {
	kind   likeKind
	lit    string // for exact, prefix, suffix, contains
	tokens []likeTok
}

type likeKind uint8

const (
	likeExact likeKind = iota
	likePrefix
	likeSuffix
	likeContains
	likeGeneral
)

type likeTok struct {
	kind byte // 'c' literal char, '_' one char, '%' any
	r    rune
}

// CompileLike compiles a LIKE pattern.
func CompileLike(pattern string) *Like {
	var toks []likeTok
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch r {
		case '\\':
			if i < len(pattern) {
				r, n = utf8.DecodeRuneInString(pattern[i:])
				i += n
			}
			toks = append(toks, likeTok{'c', r})
		case '%':
			if len(toks) > 0 && toks[len(toks)-1].kind == '%' {
				continue
			}
			toks = append(toks, likeTok{'%', 0})
		case '_':
			toks = append(toks, likeTok{'_', 0})
		default:
			toks = append(toks, likeTok{'c', r})
		}
	}
	l := &Like{kind: likeGeneral, tokens: toks}
	// Recognize literal, 'lit%', '%lit' and '%lit%'.
	inner := toks
	lead := len(inner) > 0 && inner[0].kind == '%'
	if lead {
		inner = inner[1:]
	}
	trail := len(inner) > 0 && inner[len(inner)-1].kind == '%'
	if trail {
		inner = inner[:len(inner)-1]
	}
	var sb strings.Builder
	for _, t := range inner {
		if t.kind != 'c' {
			return l
		}
		sb.WriteRune(t.r)
	}
	l.lit = sb.String()
	switch {
	case lead && trail:
		l.kind = likeContains
	case lead:
		l.kind = likeSuffix
	case trail:
		l.kind = likePrefix
	default:
		l.kind = likeExact
	}
	return l
}

// Match reports whether s matches the pattern.
func (l *Like) Match(s string) bool {
	switch l.kind {
	case likeExact:
		return s == l.lit
	case likePrefix:
		return strings.HasPrefix(s, l.lit)
	case likeSuffix:
		return strings.HasSuffix(s, l.lit)
	case likeContains:
		return strings.Contains(s, l.lit)
	}
	// Iterative wildcard matching with backtracking to the last %.
	toks := l.tokens
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case '%':
				starT, starS = ti, si
				ti++
				continue
			case '_':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				ti++
				continue
			default:
				r, n := utf8.DecodeRuneInString(s[si:])
				if r == t.r {
					si += n
					ti++
					continue
				}
			}
		}
		if starT < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si = starS
		ti = starT + 1
	}
	for ti < len(toks) && toks[ti].kind == '%' {
		ti++
	}
	return ti == len(toks)
}
