package spec

import (
	"fmt"
	"sort"
)

// String formats p as file:line:col (parts that are unknown are left out).
func (p Pos) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether p names a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Before reports whether p sorts before q (by file, line, column).
func (p Pos) Before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// srcMap turns byte offsets of the text the YAML parser saw (after
// ${VAR} interpolation) into positions in the original file.
type srcMap struct {
	file   string
	orig   []byte // the file as read
	parsed []byte // after interpolation
	// origLines and parsedLines hold the byte offset of each line start.
	origLines, parsedLines []int
	edits                  []edit // interpolations, sorted by parsed offset
}

// edit is one interpolation: orig[oStart:oEnd] became parsed[pStart:pEnd].
type edit struct{ oStart, oEnd, pStart, pEnd int }

func lineStarts(b []byte) []int {
	ls := []int{0}
	for i, c := range b {
		if c == '\n' {
			ls = append(ls, i+1)
		}
	}
	return ls
}

func newSrcMap(file string, orig, parsed []byte, edits []edit) *srcMap {
	return &srcMap{file: file, orig: orig, parsed: parsed, origLines: lineStarts(orig), parsedLines: lineStarts(parsed), edits: edits}
}

// origOffset maps an offset of the parsed text to the original text. An
// offset inside an interpolated value maps to the `$` of its reference.
func (m *srcMap) origOffset(off int) int {
	d := 0
	for _, e := range m.edits {
		if off < e.pStart {
			break
		}
		if off < e.pEnd {
			return e.oStart
		}
		d += (e.oEnd - e.oStart) - (e.pEnd - e.pStart)
	}
	return off + d
}

// pos returns the file position of a byte offset of the parsed text.
func (m *srcMap) pos(off int) Pos {
	if m == nil {
		return Pos{}
	}
	if off < 0 {
		off = 0
	}
	if off > len(m.parsed) {
		off = len(m.parsed)
	}
	return m.origPos(m.origOffset(off))
}

// origPos returns the position of a byte offset of the original text.
func (m *srcMap) origPos(off int) Pos {
	if off > len(m.orig) {
		off = len(m.orig)
	}
	i := sort.Search(len(m.origLines), func(i int) bool { return m.origLines[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return Pos{File: m.file, Line: i + 1, Col: off - m.origLines[i] + 1}
}

// offset returns the byte offset in the parsed text of a 1-based line and a
// 1-based column counted in runes (as the YAML parser counts).
func (m *srcMap) offset(line, runeCol int) int {
	if line < 1 {
		return 0
	}
	if line > len(m.parsedLines) {
		return len(m.parsed)
	}
	off := m.parsedLines[line-1]
	for n := 1; n < runeCol && off < len(m.parsed) && m.parsed[off] != '\n'; n++ {
		// advance one rune
		c := m.parsed[off]
		switch {
		case c < 0x80:
			off++
		case c < 0xE0:
			off += 2
		case c < 0xF0:
			off += 3
		default:
			off += 4
		}
	}
	if off > len(m.parsed) {
		off = len(m.parsed)
	}
	return off
}

// seg says that value bytes from voff on are the parsed-text bytes from
// poff on, one for one, up to the next seg.
type seg struct{ voff, poff int }

// PosAt returns the file position of the byte at offset off of t.Value. It
// follows the value through quoting, escapes, line folding and the
// indentation of block scalars; an offset past the end maps to the last
// byte. A Text made by hand (not by the decoder) maps offsets as if the
// value were written on one line at t.Pos.
func (t *Text) PosAt(off int) Pos {
	if off < 0 {
		off = 0
	}
	if t.src == nil || len(t.segs) == 0 {
		p := t.Pos
		if p.Line > 0 {
			// Count lines of the value for a best effort.
			line, col := p.Line, p.Col
			for i := 0; i < off && i < len(t.Value); i++ {
				if t.Value[i] == '\n' {
					line++
					col = 1
				} else {
					col++
				}
			}
			p.Line, p.Col = line, col
		}
		return p
	}
	if off >= len(t.Value) && len(t.Value) > 0 {
		off = len(t.Value) - 1
	}
	i := sort.Search(len(t.segs), func(i int) bool { return t.segs[i].voff > off }) - 1
	if i < 0 {
		i = 0
	}
	s := t.segs[i]
	return t.src.pos(s.poff + off - s.voff)
}
