package udf

import (
	"math"
	"strings"
)

func toLower(s string) string { return strings.ToLower(s) }
func toUpper(s string) string { return strings.ToUpper(s) }

func evalAbs(a []Value) (Value, error) {
	if a[0].K == TypeBigint {
		if a[0].I == math.MinInt64 {
			return Null, exprErr("ABS", "bigint overflow")
		}
		if a[0].I < 0 {
			return Int(-a[0].I), nil
		}
		return a[0], nil
	}
	f, _ := a[0].AsFloat()
	return Float(math.Abs(f)), nil
}

func evalCoalesce(a []Value) (Value, error) {
	for _, v := range a {
		if v.K != TypeNull {
			return v, nil
		}
	}
	return Null, nil
}
