package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The label types of Labels.Type: the SQL type of the label column a
// classifier was trained on.
const (
	LabelString = "string"
	LabelBigint = "bigint"
	LabelBool   = "bool"
)

// Labels are the class labels of a classifier in class-number order: the
// model predicts class number i, whose label is Values[i]. Type is the SQL
// type of the label column it was trained on, and says what Values hold:
// Go strings for "string", int64s for "bigint", bools for "bool". In JSON:
//
//	{"type": "string", "values": ["low", "mid", "high"]}
//	{"type": "bool", "values": [false, true]}
//
// String labels get class numbers in order of appearance in the training
// rows; bigint and bool labels are their own class numbers (false is 0,
// true is 1), so their Values are 0, 1, ... and false, true.
//
// A version without Labels (published before they were recorded, or by a
// publisher that did not give them) predicts class numbers only.
type Labels struct {
	Type   string `json:"type"`
	Values []any  `json:"values"`
}

// MaxLabels bounds the classes a version may list.
const MaxLabels = 1 << 16

// UnmarshalJSON decodes Values by Type (bigint values exactly, as int64).
// Values that do not fit Type are kept as decoded (numbers as
// json.Number), for Check to refuse: one bad version must not make a
// model's whole index entry unreadable.
func (l *Labels) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type   string            `json:"type"`
		Values []json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := Labels{Type: raw.Type, Values: make([]any, len(raw.Values))}
	for i, r := range raw.Values {
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return fmt.Errorf("labels: value %d: %w", i, err)
		}
		out.Values[i] = v
	}
	norm := out.Clone()
	if norm.normalize() == nil {
		out = *norm
	}
	*l = out
	return nil
}

// Check reports whether l is well formed: a known Type, at least one
// value, every value of that type, no value twice.
func (l *Labels) Check() error {
	c := l.Clone()
	return c.normalize()
}

// Clone returns a copy of l (nil for nil) whose Values do not alias l's.
func (l *Labels) Clone() *Labels {
	if l == nil {
		return nil
	}
	return &Labels{Type: l.Type, Values: append([]any(nil), l.Values...)}
}

// normalize converts the values to the Go type of l.Type (any integer
// kind or an integral float or json.Number to int64 for bigint) and
// checks them.
func (l *Labels) normalize() error {
	switch l.Type {
	case LabelString, LabelBigint, LabelBool:
	default:
		return fmt.Errorf("labels: type %q: want %s, %s or %s", l.Type, LabelString, LabelBigint, LabelBool)
	}
	if len(l.Values) == 0 {
		return fmt.Errorf("labels: no values")
	}
	if len(l.Values) > MaxLabels {
		return fmt.Errorf("labels: %d values, more than %d", len(l.Values), MaxLabels)
	}
	seen := make(map[any]bool, len(l.Values))
	for i, v := range l.Values {
		var ok bool
		switch l.Type {
		case LabelString:
			_, ok = v.(string)
		case LabelBool:
			_, ok = v.(bool)
		case LabelBigint:
			v, ok = toInt64(v)
			l.Values[i] = v
		}
		if !ok {
			return fmt.Errorf("labels: value %d (%v) is not a %s", i, l.Values[i], l.Type)
		}
		if seen[v] {
			return fmt.Errorf("labels: value %v listed twice", v)
		}
		seen[v] = true
	}
	return nil
}

func toInt64(v any) (any, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return v, false
}

// Label returns the label of class number c (a value of Values), or false
// when c is not the number of a listed class (or l is nil).
func (l *Labels) Label(c float64) (any, bool) {
	if l == nil || c < 0 || c != math.Trunc(c) || c >= float64(len(l.Values)) {
		return nil, false
	}
	return l.Values[int(c)], true
}

// String is the text form of l for people: the values in class-number
// order and the type, as `low, mid, high (string)`.
func (l *Labels) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(l.Values))
	for i, v := range l.Values {
		switch x := v.(type) {
		case string:
			if x == "" || strings.ContainsAny(x, ", ()\"") {
				x = strconv.Quote(x)
			}
			parts[i] = x
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, ", ") + " (" + l.Type + ")"
}
