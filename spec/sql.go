package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/xwb1989/sqlparser"
)

// SQLTable is a relation named in a SQL stage's FROM or JOIN, with the
// byte offset of its identifier in the SQL text.
type SQLTable struct {
	Name   string
	Offset int
}

// sqlErrPos matches sqlparser's "syntax error at position N near 'x'".
var sqlErrPos = regexp.MustCompile(`^(.*) at position (\d+)(?: near '(.*)')?$`)

// ParseSQL parses the SQL of a stage with xwb1989/sqlparser and returns the
// statement and the tables it reads. A syntax error is returned as a
// Diagnostic at the offending token's position in the job file.
func ParseSQL(t *Text) (sqlparser.Statement, []SQLTable, Diagnostics) {
	stmt, err := parseSQL(t.Value)
	if err != nil {
		off, msg := sqlErrorOffset(t.Value, err.Error())
		return nil, nil, Diagnostics{diagf(ErrSQL, t.PosAt(off), "SQL %s", msg)}
	}
	var tables []SQLTable
	refs := tableTokens(t.Value)
	used := map[int]bool{}
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if a, ok := n.(*sqlparser.AliasedTableExpr); ok {
			if tn, ok := a.Expr.(sqlparser.TableName); ok && !tn.Name.IsEmpty() {
				name := tn.Name.String()
				off := -1
				for _, r := range refs {
					if !used[r.Offset] && strings.EqualFold(r.Name, name) {
						off = r.Offset
						used[off] = true
						break
					}
				}
				if off < 0 {
					off = strings.Index(t.Value, name)
				}
				tables = append(tables, SQLTable{Name: name, Offset: max(off, 0)})
			}
		}
		return true, nil
	}, stmt)
	return stmt, tables, nil
}

// parseSQL parses, turning a panic of the parser into an error.
func parseSQL(s string) (stmt sqlparser.Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmt, err = nil, fmt.Errorf("syntax error at position %d", len(s)+1)
		}
	}()
	return sqlparser.ParseStrictDDL(s)
}

// sqlErrorOffset turns sqlparser's message into a byte offset in sql and a
// message without the position. The parser's position is one past the end
// of the last token read; the token itself is quoted after "near".
func sqlErrorOffset(sql, msg string) (int, string) {
	m := sqlErrPos.FindStringSubmatch(msg)
	if m == nil {
		return 0, msg
	}
	n, _ := strconv.Atoi(m[2])
	end := min(n-1, len(sql))
	off := end - 1
	text := m[1]
	if m[3] != "" {
		off = end - len(m[3])
		if off > 0 && off-1 < len(sql) && (sql[off-1] == '\'' || sql[off-1] == '"' || sql[off-1] == '`') && !strings.HasPrefix(sql[off:], m[3]) {
			off--
		}
		text += fmt.Sprintf(" near %q", m[3])
	} else if strings.TrimSpace(sql[min(end, len(sql)):]) == "" && end >= len(strings.TrimRight(sql, " \t\r\n;")) {
		text += " at end of input"
	} else {
		// The parser names no token (operators): quote the text before the position.
		s := max(min(end, len(sql)), 0)
		b := s
		for b > 0 && !isSpace(sql[b-1]) {
			b--
		}
		if b < s && strings.ContainsRune("(),;=<>!+-*/%|&^~.", rune(sql[s-1])) {
			b = s - 1
		}
		if b < s {
			text += fmt.Sprintf(" near %q", sql[b:s])
		}
	}
	// Point at the token, not at white space after it.
	for off > 0 && off < len(sql) && isSpace(sql[off]) {
		off--
	}
	return max(min(off, len(sql)-1), 0), text
}

// tableTokens returns the identifiers that follow FROM, JOIN or a comma
// inside a FROM clause, with their offsets.
func tableTokens(sql string) []SQLTable {
	tk := sqlparser.NewStringTokenizer(sql)
	var out []SQLTable
	prev, inFrom := 0, false
	for i := 0; i < 100000; i++ {
		typ, val := tk.Scan()
		if typ == 0 || typ == sqlparser.LEX_ERROR {
			break
		}
		end := tk.Position - 1
		switch {
		case typ == sqlparser.FROM:
			inFrom = true
		case typ == sqlparser.WHERE || typ == sqlparser.GROUP || typ == sqlparser.HAVING || typ == sqlparser.ORDER || typ == sqlparser.LIMIT || typ == sqlparser.UNION || typ == sqlparser.SELECT:
			inFrom = false
		case typ == sqlparser.ID && (prev == sqlparser.FROM || prev == sqlparser.JOIN || inFrom && prev == ','):
			start := strings.LastIndex(sql[:min(max(end, 0), len(sql))], string(val))
			if start < 0 {
				start = end - len(val)
			}
			out = append(out, SQLTable{Name: string(val), Offset: max(start, 0)})
		}
		prev = typ
	}
	return out
}

// isSelect reports whether stmt is a query (SELECT or UNION).
func isSelect(stmt sqlparser.Statement) bool {
	switch stmt.(type) {
	case *sqlparser.Select, *sqlparser.Union, *sqlparser.ParenSelect:
		return true
	}
	return false
}
