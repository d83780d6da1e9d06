package udf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Type is the SQL type of a column or expression.
type Type uint8

// The column types of a job file. TypeNull is the type of the NULL literal;
// TypeAny is used only for function signatures that accept every type.
const (
	TypeNull Type = iota
	TypeBigint
	TypeDouble
	TypeString
	TypeBool
	TypeTimestamp
	TypeVector
	TypeAny
)

var typeNames = [...]string{
	TypeNull:      "null",
	TypeBigint:    "bigint",
	TypeDouble:    "double",
	TypeString:    "string",
	TypeBool:      "bool",
	TypeTimestamp: "timestamp",
	TypeVector:    "vector",
	TypeAny:       "any",
}

// String returns the type's name as written in a job file.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// ColumnTypeNames lists the type names a job file's schema may use.
var ColumnTypeNames = []string{"bigint", "double", "string", "bool", "timestamp", "vector"}

// ParseType parses a column type name. It accepts the names of
// ColumnTypeNames and the aliases int, long, integer, float, real, text,
// varchar, boolean.
func ParseType(s string) (Type, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bigint", "int", "integer", "long":
		return TypeBigint, true
	case "double", "float", "real":
		return TypeDouble, true
	case "string", "text", "varchar":
		return TypeString, true
	case "bool", "boolean":
		return TypeBool, true
	case "timestamp":
		return TypeTimestamp, true
	case "vector":
		return TypeVector, true
	}
	return TypeNull, false
}

// Numeric reports whether t is bigint or double.
func (t Type) Numeric() bool { return t == TypeBigint || t == TypeDouble }

// Value is one SQL value. K is its type; K == TypeNull is SQL NULL. The
// payload is in I (bigint; bool as 0 or 1; timestamp as epoch milliseconds
// UTC), F (double), S (string) or V (vector). A Value is small enough to pass
// by value and a Row of them needs no allocation per field.
type Value struct {
	K Type
	I int64
	F float64
	S string
	V []float64
}

// Row is one record, laid out by the schema of the plan node that produced it.
type Row []Value

// Null is the SQL NULL value.
var Null = Value{}

// Int returns a bigint value.
func Int(i int64) Value { return Value{K: TypeBigint, I: i} }

// Float returns a double value.
func Float(f float64) Value { return Value{K: TypeDouble, F: f} }

// Str returns a string value.
func Str(s string) Value { return Value{K: TypeString, S: s} }

// Bool returns a bool value.
func Bool(b bool) Value {
	if b {
		return Value{K: TypeBool, I: 1}
	}
	return Value{K: TypeBool}
}

// Time returns a timestamp value of epoch milliseconds.
func Time(ms int64) Value { return Value{K: TypeTimestamp, I: ms} }

// Vec returns a vector value; the slice is not copied.
func Vec(v []float64) Value { return Value{K: TypeVector, V: v} }

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.K == TypeNull }

// AsBool returns the truth of a bool value; NULL and other types are false.
func (v Value) AsBool() bool { return v.K == TypeBool && v.I != 0 }

// AsFloat converts a numeric or timestamp value to float64. ok is false for
// NULL and non-numeric values.
func (v Value) AsFloat() (f float64, ok bool) {
	switch v.K {
	case TypeDouble:
		return v.F, true
	case TypeBigint, TypeTimestamp:
		return float64(v.I), true
	case TypeBool:
		return float64(v.I), true
	}
	return 0, false
}

// String formats v for humans and golden files: NULL, numbers in their
// shortest form, timestamps in RFC 3339 UTC with milliseconds.
func (v Value) String() string {
	switch v.K {
	case TypeNull:
		return "NULL"
	case TypeBigint:
		return strconv.FormatInt(v.I, 10)
	case TypeDouble:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case TypeString:
		return strconv.Quote(v.S)
	case TypeBool:
		return strconv.FormatBool(v.I != 0)
	case TypeTimestamp:
		return FormatTime(v.I)
	case TypeVector:
		var b strings.Builder
		b.WriteByte('[')
		for i, x := range v.V {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		b.WriteByte(']')
		return b.String()
	}
	return fmt.Sprintf("Value(%d)", v.K)
}

// FormatTime formats epoch milliseconds as RFC 3339 UTC with milliseconds,
// the form flowrun writes timestamps in.
func FormatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Equal reports whether a and b are the same value (NULL equals NULL here;
// SQL comparison semantics are the evaluator's).
func Equal(a, b Value) bool {
	if a.K != b.K {
		return false
	}
	switch a.K {
	case TypeDouble:
		return a.F == b.F || (math.IsNaN(a.F) && math.IsNaN(b.F))
	case TypeString:
		return a.S == b.S
	case TypeVector:
		if len(a.V) != len(b.V) {
			return false
		}
		for i := range a.V {
			if a.V[i] != b.V[i] {
				return false
			}
		}
		return true
	}
	return a.I == b.I
}
