package spec

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// decodeText decodes a scalar holding code (SQL, an expression) and records
// how each byte of its value maps back to the file.
func (d *decoder) decodeText(n ast.Node, t *Text, fi fieldInfo) {
	t.Pos = d.nodePos(n) // also when the value is not a string
	if isNull(n) {
		return
	}
	if !isScalar(n) {
		d.errf(ErrType, n, "%s must be a string, not %s", fi.label(), describe(n))
		return
	}
	t.Value = scalarString(n)
	t.src = d.m
	off := d.nodeOffset(n)
	if off < 0 {
		t.Pos = d.nodePos(n)
		return
	}
	src := d.m.parsed
	var b segBuilder
	switch x := n.(type) {
	case *ast.LiteralNode:
		b = blockScalar(src, off)
	case *ast.StringNode:
		switch x.GetToken().Type {
		case token.DoubleQuoteType:
			b = quotedScalar(src, off, '"')
		case token.SingleQuoteType:
			b = quotedScalar(src, off, '\'')
		default:
			b = plainScalar(src, off, t.Value)
		}
	default:
		b = plainScalar(src, off, t.Value)
	}
	t.segs = b.segs
	if len(t.segs) == 0 {
		t.segs = []seg{{0, off}}
	}
	t.Pos = t.PosAt(0)
	if t.Value == "" {
		t.Pos = d.m.pos(off)
	}
}

// segBuilder accumulates a decoded value and its segments.
type segBuilder struct {
	val  []byte
	segs []seg
}

// emit appends the bytes s, whose first byte came from parsed offset poff
// (and the rest, when contiguous, from the bytes after it).
func (b *segBuilder) emit(s string, poff int) {
	if len(s) == 0 {
		return
	}
	if n := len(b.segs); n == 0 || b.segs[n-1].poff+(len(b.val)-b.segs[n-1].voff) != poff {
		b.segs = append(b.segs, seg{voff: len(b.val), poff: poff})
	}
	b.val = append(b.val, s...)
}

// blockScalar decodes a `|` or `>` block scalar whose header indicator is
// at src[off].
func blockScalar(src []byte, off int) segBuilder {
	var b segBuilder
	folded := src[off] == '>'
	chomp := byte(0)
	explicit := 0
	i := off + 1
	for ; i < len(src) && i < off+3; i++ {
		c := src[i]
		if c == '+' || c == '-' {
			chomp = c
		} else if c >= '1' && c <= '9' {
			explicit = int(c - '0')
		} else {
			break
		}
	}
	// The parent's indentation: the first character of the header's line
	// that is not a space or a sequence dash.
	ls := off
	for ls > 0 && src[ls-1] != '\n' {
		ls--
	}
	parent := 0
	for p := ls; p < off && (src[p] == ' ' || src[p] == '-' && p+1 < len(src) && src[p+1] == ' '); p++ {
		parent++
	}
	// Content starts on the line after the header.
	for i < len(src) && src[i] != '\n' {
		i++
	}
	i++
	type line struct {
		start, end int // content bytes src[start:end] (after the indentation)
		blank      bool
	}
	var lines []line
	indent := -1
	if explicit > 0 {
		indent = parent + explicit
	}
scan:
	for p := i; p < len(src); {
		e := p
		for e < len(src) && src[e] != '\n' {
			e++
		}
		sp := 0
		for p+sp < e && src[p+sp] == ' ' {
			sp++
		}
		blankLine := p+sp == e || p+sp+1 == e && src[e-1] == '\r'
		if indent < 0 && !blankLine {
			indent = sp
		}
		switch {
		case indent >= 0 && sp >= indent:
			end := e
			if end > p && src[end-1] == '\r' {
				end--
			}
			lines = append(lines, line{start: p + indent, end: end, blank: blankLine && sp == indent})
		case blankLine:
			lines = append(lines, line{start: e, end: e, blank: true})
		default:
			break scan // a less indented line ends the scalar
		}
		p = e + 1
	}
	// Trailing blank lines are handled by chomping.
	last := len(lines) - 1
	for last >= 0 && lines[last].blank && lines[last].start == lines[last].end {
		last--
	}
	trailing := len(lines) - 1 - last
	content := lines[:last+1]
	prevMore, started, pendingBlank := false, false, 0
	for _, l := range content {
		text := string(src[l.start:l.end])
		if !folded {
			b.emit(text, l.start)
			b.emit("\n", l.end)
			continue
		}
		if l.start == l.end {
			pendingBlank++
			continue
		}
		more := text[0] == ' ' || text[0] == '\t'
		if started {
			switch {
			case pendingBlank == 0 && !more && !prevMore:
				b.emit(" ", l.start-1)
			case !more && !prevMore:
				for k := 0; k < pendingBlank; k++ {
					b.emit("\n", l.start-1)
				}
			default:
				for k := 0; k <= pendingBlank; k++ {
					b.emit("\n", l.start-1)
				}
			}
		} else {
			for k := 0; k < pendingBlank; k++ {
				b.emit("\n", l.start-1)
			}
		}
		b.emit(text, l.start)
		started, prevMore, pendingBlank = true, more, 0
	}
	if folded && len(content) > 0 {
		l := content[len(content)-1]
		for k := 0; k < pendingBlank; k++ {
			b.emit("\n", l.end)
		}
		if started {
			b.emit("\n", l.end)
		}
	}
	// Chomping of the final line break and trailing blank lines.
	switch chomp {
	case '-':
		for len(b.val) > 0 && b.val[len(b.val)-1] == '\n' {
			b.val = b.val[:len(b.val)-1]
		}
	case '+':
		end := len(src)
		if last >= 0 {
			end = lines[last].end
		}
		for k := 0; k < trailing; k++ {
			b.emit("\n", end)
		}
	}
	b.trimSegs()
	return b
}

// trimSegs drops segments that start at or after the end of the value.
func (b *segBuilder) trimSegs() {
	for len(b.segs) > 0 && b.segs[len(b.segs)-1].voff >= len(b.val) && len(b.segs) > 1 {
		b.segs = b.segs[:len(b.segs)-1]
	}
}

// quotedScalar decodes a single- or double-quoted scalar whose opening
// quote is at src[off].
func quotedScalar(src []byte, off int, q byte) segBuilder {
	var b segBuilder
	i := off + 1
	for i < len(src) {
		c := src[i]
		switch {
		case c == q && q == '\'' && i+1 < len(src) && src[i+1] == '\'':
			b.emit("'", i)
			i += 2
		case c == q:
			b.trimSegs()
			return b
		case c == '\\' && q == '"' && i+1 < len(src):
			e := src[i+1]
			if e == '\n' || e == '\r' {
				i += 2
				if e == '\r' && i < len(src) && src[i] == '\n' {
					i++
				}
				for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
					i++
				}
				continue
			}
			s, n := unescape(src[i:])
			b.emit(s, i)
			i += n
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			// Whitespace before a line break is trimmed and the break folded.
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
				j++
			}
			if j >= len(src) || src[j] != '\n' {
				b.emit(string(src[i:j]), i)
				i = j
				continue
			}
			breaks := 0
			for j < len(src) && (src[j] == '\n' || src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
				if src[j] == '\n' {
					breaks++
				}
				j++
			}
			if breaks == 1 {
				b.emit(" ", i)
			} else {
				for k := 1; k < breaks; k++ {
					b.emit("\n", i)
				}
			}
			i = j
		default:
			_, size := utf8.DecodeRune(src[i:])
			b.emit(string(src[i:i+size]), i)
			i += size
		}
	}
	b.trimSegs()
	return b
}

// unescape decodes the double-quoted escape at the start of s (s[0] is
// the backslash) and returns it and the bytes it took.
func unescape(s []byte) (string, int) {
	simple := map[byte]string{'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v", 'f': "\f",
		'r': "\r", 'e': "\x1b", ' ': " ", '"': "\"", '/': "/", '\\': "\\", 'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029"}
	if r, ok := simple[s[1]]; ok {
		return r, 2
	}
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[1]]
	if n > 0 && len(s) >= 2+n {
		if v, err := strconv.ParseUint(string(s[2:2+n]), 16, 32); err == nil {
			return string(rune(v)), 2 + n
		}
	}
	return string(s[:2]), 2
}

// plainScalar aligns the decoded value of a plain scalar with its source
// starting at src[off]: equal bytes map one to one, and a folded line
// break (a space or newline in the value) maps to the break.
func plainScalar(src []byte, off int, val string) segBuilder {
	var b segBuilder
	i := off
	for k := 0; k < len(val); {
		c := val[k]
		switch {
		case (c == ' ' || c == '\n') && i < len(src) && isSpace(src[i]):
			b.emit(val[k:k+1], i)
			j := i
			for j < len(src) && isSpace(src[j]) {
				j++
			}
			// Consume the run unless the value continues with more of
			// the same folded whitespace.
			if k+1 >= len(val) || !(val[k+1] == ' ' || val[k+1] == '\n') || src[i] == ' ' && val[k+1] == ' ' {
				if src[i] == ' ' && c == ' ' && !strings.ContainsRune(string(src[i:j]), '\n') {
					i++
				} else {
					i = j
				}
			} else {
				i++
			}
		case i < len(src) && src[i] == c:
			b.emit(val[k:k+1], i)
			i++
		default:
			b.emit(val[k:k+1], max(i-1, 0))
		}
		k++
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
