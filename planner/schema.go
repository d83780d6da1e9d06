package planner

import (
	"slices"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/udf"
)

// Index returns the index of the column named name (exact match first,
// then ignoring case), or -1.
func (s Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	for i, c := range s.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// Names returns the column names in order.
func (s Schema) Names() []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

// String prints the schema as (name type, ...) with the event-time column
// marked * and key columns marked #.
func (s Schema) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name)
		if i == s.EventTime {
			b.WriteByte('*')
		}
		if slices.Contains(s.Key, i) {
			b.WriteByte('#')
		}
		b.WriteByte(' ')
		b.WriteString(c.Type.String())
		if c.Nullable {
			b.WriteString("?")
		}
	}
	b.WriteByte(')')
	return b.String()
}

// project returns the schema of rows made of the columns idx of s (in that
// order); event time, key and window columns follow when they are kept.
func (s Schema) project(idx []int) Schema {
	out := Schema{EventTime: -1}
	pos := make(map[int]int, len(idx))
	for j, i := range idx {
		out.Columns = append(out.Columns, s.Columns[i])
		if _, dup := pos[i]; !dup {
			pos[i] = j
		}
	}
	if j, ok := pos[s.EventTime]; ok && s.EventTime >= 0 {
		out.EventTime = j
	}
	if len(s.Key) > 0 {
		var key []int
		for _, k := range s.Key {
			j, ok := pos[k]
			if !ok {
				key = nil
				break
			}
			key = append(key, j)
		}
		out.Key = key
	}
	if s.Window != nil {
		w := *s.Window
		w.Start, w.End = mapIdx(pos, w.Start), mapIdx(pos, w.End)
		if w.Start >= 0 || w.End >= 0 {
			out.Window = &w
		}
	}
	return out
}

func mapIdx(pos map[int]int, i int) int {
	if j, ok := pos[i]; ok && i >= 0 {
		return j
	}
	return -1
}

// concat returns the schema of l ++ r rows (joins). Event time is the left
// side's; the key is the left key.
func concat(l, r Schema, rightNullable bool) Schema {
	out := Schema{EventTime: l.EventTime, Key: l.Key, Window: l.Window}
	out.Columns = append(append([]Column(nil), l.Columns...), r.Columns...)
	if rightNullable {
		for i := len(l.Columns); i < len(out.Columns); i++ {
			out.Columns[i].Nullable = true
		}
	}
	return out
}

// clone returns a deep copy of s.
func (s Schema) clone() Schema {
	out := s
	out.Columns = slices.Clone(s.Columns)
	out.Key = slices.Clone(s.Key)
	if s.Window != nil {
		w := *s.Window
		out.Window = &w
	}
	return out
}

// isVector reports whether column i is a vector.
func (s Schema) isVector(i int) bool { return s.Columns[i].Type == udf.TypeVector }

func itoa(i int) string { return strconv.Itoa(i) }
