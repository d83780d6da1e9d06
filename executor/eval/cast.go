package eval

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/flowrun/flowrun/udf"
)

// Cast converts v to type to (CAST / CONVERT). NULL casts to NULL. A value
// that cannot be converted is an ErrExpr error (the row is dead-lettered),
// never a silent NULL. Rules:
//   - double → bigint truncates toward zero; NaN, ±Inf and values out of
//     the bigint range are errors.
//   - string → bigint/double parses the trimmed text (a bigint accepts a
//     decimal such as "2.0" and truncates it); string → bool accepts
//     true/false/t/f/yes/no/1/0 in any case.
//   - string → timestamp accepts RFC 3339 (with or without fraction and
//     zone, 'T' or space), a date YYYY-MM-DD (midnight UTC), or epoch
//     milliseconds; bigint → timestamp is epoch milliseconds.
//   - anything → string gives the text form (timestamps RFC 3339 UTC with
//     milliseconds, doubles in shortest form, vectors as [a,b]).
//   - string → vector parses [a, b, ...].
func Cast(v udf.Value, to udf.Type) (udf.Value, error) {
	if v.K == to || v.K == udf.TypeNull || to == udf.TypeAny {
		return v, nil
	}
	switch to {
	case udf.TypeBigint:
		switch v.K {
		case udf.TypeDouble:
			return floatToInt(v.F)
		case udf.TypeBool, udf.TypeTimestamp:
			return udf.Int(v.I), nil
		case udf.TypeString:
			s := strings.TrimSpace(v.S)
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return udf.Int(i), nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return floatToInt(f)
			}
			return udf.Null, exprErr("cannot cast %q to bigint", v.S)
		}
	case udf.TypeDouble:
		switch v.K {
		case udf.TypeBigint, udf.TypeBool, udf.TypeTimestamp:
			return udf.Float(float64(v.I)), nil
		case udf.TypeString:
			f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
			if err != nil {
				return udf.Null, exprErr("cannot cast %q to double", v.S)
			}
			return udf.Float(f), nil
		}
	case udf.TypeString:
		return udf.Str(text(v)), nil
	case udf.TypeBool:
		switch v.K {
		case udf.TypeBigint:
			return udf.Bool(v.I != 0), nil
		case udf.TypeDouble:
			return udf.Bool(v.F != 0), nil
		case udf.TypeString:
			switch strings.ToLower(strings.TrimSpace(v.S)) {
			case "true", "t", "yes", "y", "1":
				return udf.Bool(true), nil
			case "false", "f", "no", "n", "0":
				return udf.Bool(false), nil
			}
			return udf.Null, exprErr("cannot cast %q to bool", v.S)
		}
	case udf.TypeTimestamp:
		switch v.K {
		case udf.TypeBigint:
			return udf.Time(v.I), nil
		case udf.TypeDouble:
			i, err := floatToInt(v.F)
			return udf.Time(i.I), err
		case udf.TypeString:
			ms, ok := ParseTime(v.S)
			if !ok {
				return udf.Null, exprErr("cannot cast %q to timestamp", v.S)
			}
			return udf.Time(ms), nil
		}
	case udf.TypeVector:
		if v.K == udf.TypeString {
			s := strings.TrimSpace(v.S)
			if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
				return udf.Null, exprErr("cannot cast %q to vector", v.S)
			}
			s = strings.TrimSpace(s[1 : len(s)-1])
			out := []float64{}
			if s != "" {
				for _, part := range strings.Split(s, ",") {
					f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
					if err != nil {
						return udf.Null, exprErr("cannot cast %q to vector", v.S)
					}
					out = append(out, f)
				}
			}
			return udf.Vec(out), nil
		}
	}
	return udf.Null, exprErr("cannot cast %s to %s", v.K, to)
}

func floatToInt(f float64) (udf.Value, error) {
	if f != f || f >= 9.223372036854775808e18 || f < -9.223372036854775808e18 {
		return udf.Null, exprErr("double %v out of bigint range", f)
	}
	return udf.Int(int64(math.Trunc(f))), nil
}

// text is the string form of a non-NULL value used by CAST and ||.
func text(v udf.Value) string {
	switch v.K {
	case udf.TypeString:
		return v.S
	case udf.TypeNull:
		return ""
	}
	return v.String()
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses a timestamp text: RFC 3339 (with or without fraction and
// zone; 'T' or a space between date and time; no zone is UTC), a date, or
// epoch milliseconds. It returns epoch milliseconds.
func ParseTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, true
	}
	if ms, ok := udf.ParseISOTime(s); ok {
		return ms, true
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}
