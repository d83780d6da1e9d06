package udf

import (
	"fmt"
	"github.com/expr-lang/expr/types"
	"math"
	"reflect"
)

// exprType returns the type expr-lang's checker sees for a column of type
// t. Timestamps are epoch milliseconds (int); TypeAny is expr-lang's any.
func exprType(t Type) types.Type {
	switch t {
	case TypeBigint, TypeTimestamp:
		return types.Int
	case TypeDouble:
		return types.Float64
	case TypeString:
		return types.String
	case TypeBool:
		return types.Bool
	case TypeVector:
		return types.TypeOf([]float64(nil))
	}
	return types.Any
}

// ToGo converts v to the Go value expr-lang's VM works with: nil for NULL,
// int for bigint and timestamp (epoch millis), float64, string, bool,
// []float64.
func ToGo(v Value) any {
	switch v.K {
	case TypeBigint, TypeTimestamp:
		return int(v.I)
	case TypeDouble:
		return v.F
	case TypeString:
		return v.S
	case TypeBool:
		return v.I != 0
	case TypeVector:
		return v.V
	}
	return nil
}

// FromGo converts a Go value produced by expr-lang to a Value. want is the
// declared type (TypeAny to take the value's own type); an integer result
// for a timestamp is epoch millis, an integer for a double is converted.
func FromGo(x any, want Type) (Value, error) {
	var v Value
	switch x := x.(type) {
	case nil:
		return Null, nil
	case int:
		v = Int(int64(x))
	case int64:
		v = Int(x)
	case int32:
		v = Int(int64(x))
	case uint8:
		v = Int(int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return Null, fmt.Errorf("%w: integer %d overflows bigint", ErrExpr, x)
		}
		v = Int(int64(x))
	case float64:
		v = Float(x)
	case float32:
		v = Float(float64(x))
	case string:
		v = Str(x)
	case bool:
		v = Bool(x)
	case []float64:
		v = Vec(x)
	case []any:
		out := make([]float64, len(x))
		for i, e := range x {
			f, err := FromGo(e, TypeDouble)
			if err != nil || f.K != TypeDouble {
				return Null, fmt.Errorf("%w: array element %d is %T, not a number", ErrExpr, i, e)
			}
			out[i] = f.F
		}
		v = Vec(out)
	default:
		return Null, fmt.Errorf("%w: result of type %s is not a SQL value", ErrExpr, reflect.TypeOf(x))
	}
	return Coerce(v, want)
}

// Coerce converts v to type t where SQL allows it implicitly: bigint to
// double, bigint to timestamp (epoch millis). NULL stays NULL and TypeAny
// accepts everything; anything else is an ErrExpr error.
func Coerce(v Value, t Type) (Value, error) {
	switch {
	case v.K == t || v.K == TypeNull || t == TypeAny:
		return v, nil
	case t == TypeDouble && v.K == TypeBigint:
		return Float(float64(v.I)), nil
	case t == TypeTimestamp && v.K == TypeBigint:
		return Time(v.I), nil
	}
	return Null, fmt.Errorf("%w: cannot use %s value %s as %s", ErrExpr, v.K, v, t)
}

// typeOfGo maps the Go type expr-lang infers for an expression to a Type;
// TypeAny when it is unknown.
func typeOfGo(t reflect.Type) Type {
	if t == nil {
		return TypeAny
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Int8, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return TypeBigint
	case reflect.Float64, reflect.Float32:
		return TypeDouble
	case reflect.String:
		return TypeString
	case reflect.Bool:
		return TypeBool
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Float64 {
			return TypeVector
		}
	}
	return TypeAny
}
