package spec

import (
	"bytes"
)

// interpolate replaces ${VAR} and ${VAR:-default} in src with values from
// lookup. `$${` is a literal `${`. References inside full-line comments are
// left alone. It returns the new text, the edits made (for positions) and
// a diagnostic for each unset variable without a default and each
// malformed reference; pos maps an offset of src to a position.
func interpolate(src []byte, lookup func(string) (string, bool), pos func(int) Pos) ([]byte, []edit, Diagnostics) {
	if !bytes.Contains(src, []byte("${")) {
		return src, nil, nil
	}
	var out bytes.Buffer
	var edits []edit
	var ds Diagnostics
	lineStart := true
	inComment := false
	for i := 0; i < len(src); {
		c := src[i]
		if c == '\n' {
			lineStart, inComment = true, false
			out.WriteByte(c)
			i++
			continue
		}
		if lineStart && (c == ' ' || c == '\t') {
			out.WriteByte(c)
			i++
			continue
		}
		if lineStart && c == '#' {
			inComment = true
		}
		lineStart = false
		if inComment || c != '$' {
			out.WriteByte(c)
			i++
			continue
		}
		if bytes.HasPrefix(src[i:], []byte("$${")) {
			edits = append(edits, edit{oStart: i, oEnd: i + 3, pStart: out.Len(), pEnd: out.Len() + 2})
			out.WriteString("${")
			i += 3
			continue
		}
		if !bytes.HasPrefix(src[i:], []byte("${")) {
			out.WriteByte(c)
			i++
			continue
		}
		end := bytes.IndexAny(src[i:], "}\n")
		if end < 0 || src[i+end] != '}' {
			ds = append(ds, diagf(ErrInterp, pos(i), "unterminated ${ reference").withHint("write $${ for a literal ${"))
			out.WriteByte(c)
			i++
			continue
		}
		ref := string(src[i+2 : i+end])
		name, def, hasDef := ref, "", false
		if k := indexStr(ref, ":-"); k >= 0 {
			name, def, hasDef = ref[:k], ref[k+2:], true
		}
		if !validVarName(name) {
			ds = append(ds, diagf(ErrInterp, pos(i), "bad variable reference ${%s}: a name is letters, digits and _", ref).withHint("write $${ for a literal ${"))
			out.Write(src[i : i+end+1])
			i += end + 1
			continue
		}
		val, ok := lookup(name)
		if !ok {
			if !hasDef {
				ds = append(ds, diagf(ErrInterp, pos(i), "environment variable %s is not set", name).withHint("set it, or give a default: ${"+name+":-value}"))
			}
			val = def
		}
		edits = append(edits, edit{oStart: i, oEnd: i + end + 1, pStart: out.Len(), pEnd: out.Len() + len(val)})
		out.WriteString(val)
		i += end + 1
	}
	return out.Bytes(), edits, ds
}

func indexStr(s, sub string) int { return bytes.Index([]byte(s), []byte(sub)) }

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
