package mlops

import (
	"math"
	"strconv"

	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// num returns v as a float64; NULL and non-numeric values are NaN.
func num(v udf.Value) float64 {
	if f, ok := v.AsFloat(); ok {
		return f
	}
	if v.K == udf.TypeString {
		if f, err := strconv.ParseFloat(v.S, 64); err == nil {
			return f
		}
	}
	return math.NaN()
}

// fromFloat converts f back to a value of type t (bigint and timestamp
// round to the nearest integer, bool is f > 0.5).
func fromFloat(f float64, t udf.Type) udf.Value {
	switch t {
	case udf.TypeBigint:
		return udf.Int(int64(math.Round(f)))
	case udf.TypeTimestamp:
		return udf.Time(int64(math.Round(f)))
	case udf.TypeBool:
		return udf.Bool(f > 0.5)
	case udf.TypeString:
		return udf.Str(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return udf.Float(f)
}

// category returns the categorical form of a scalar value ("" for NULL).
func category(v udf.Value) string {
	switch v.K {
	case udf.TypeNull:
		return ""
	case udf.TypeString:
		return v.S
	}
	return v.String()
}

// index returns the position of each name in s (-1 when missing).
func index(s planner.Schema, names ...string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		out[i] = -1
		for j, c := range s.Columns {
			if c.Name == n {
				out[i] = j
				break
			}
		}
	}
	return out
}

// keyOf returns a string key of the values of row at cols.
func keyOf(buf []byte, row udf.Row, cols []int) []byte {
	for i, c := range cols {
		if i > 0 {
			buf = append(buf, 0)
		}
		v := row[c]
		buf = append(buf, byte(v.K))
		buf = append(buf, category(v)...)
	}
	return buf
}

// vectorizer turns feature values (numbers, bools and vectors) into an
// ml.Vector, reusing its buffers: the vector is valid until the next call.
type vectorizer struct {
	dense []float64
	idx   []int32
	val   []float64
}

// sparseMin is the width from which inputs become sparse vectors: wide
// inputs are hashed or TF-IDF features, mostly zero, and linear models
// then touch only the non-zeros (and do not standardize them). The rule
// depends on the width only, so every row of a model is treated alike.
const sparseMin = 256

// vector concatenates vals: a number or bool is one element (NULL is NaN
// unless nanZero, then 0), a vector all of its elements.
func (z *vectorizer) vector(vals []udf.Value) ml.Vector {
	z.dense = z.dense[:0]
	for _, v := range vals {
		if v.K == udf.TypeVector {
			z.dense = append(z.dense, v.V...)
			continue
		}
		f := num(v)
		if math.IsNaN(f) {
			f = 0
		}
		z.dense = append(z.dense, f)
	}
	if len(z.dense) < sparseMin {
		return ml.Dense(z.dense)
	}
	z.idx, z.val = z.idx[:0], z.val[:0]
	for i, f := range z.dense {
		if f != 0 {
			z.idx = append(z.idx, int32(i))
			z.val = append(z.val, f)
		}
	}
	// A sparse vector spans up to its last non-zero; keep the full width
	// visible to models that grow weights by Len.
	if len(z.idx) == 0 || int(z.idx[len(z.idx)-1]) != len(z.dense)-1 {
		z.idx = append(z.idx, int32(len(z.dense)-1))
		z.val = append(z.val, 0)
	}
	return ml.Sparse(z.idx, z.val)
}
