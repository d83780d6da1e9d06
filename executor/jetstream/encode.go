package jetstream

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// AppendJSON appends row as one JSON object with the column names as
// keys: timestamps as RFC 3339 UTC strings with milliseconds, NULL (and
// NaN, ±Inf, which JSON cannot hold) as null, vectors as arrays.
func AppendJSON(buf []byte, cols []planner.Column, row udf.Row) []byte {
	buf = append(buf, '{')
	for i, v := range row {
		if i > 0 {
			buf = append(buf, ',')
		}
		name := "col" + strconv.Itoa(i)
		if i < len(cols) {
			name = cols[i].Name
		}
		buf = appendString(buf, name)
		buf = append(buf, ':')
		buf = AppendValueJSON(buf, v)
	}
	return append(buf, '}')
}

// AppendValueJSON appends one value as JSON (see AppendJSON).
func AppendValueJSON(buf []byte, v udf.Value) []byte {
	switch v.K {
	case udf.TypeBigint:
		return strconv.AppendInt(buf, v.I, 10)
	case udf.TypeDouble:
		return appendFloat(buf, v.F)
	case udf.TypeString:
		return appendString(buf, v.S)
	case udf.TypeBool:
		return strconv.AppendBool(buf, v.I != 0)
	case udf.TypeTimestamp:
		buf = append(buf, '"')
		buf = time.UnixMilli(v.I).UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
		return append(buf, '"')
	case udf.TypeVector:
		buf = append(buf, '[')
		for i, x := range v.V {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendFloat(buf, x)
		}
		return append(buf, ']')
	}
	return append(buf, "null"...)
}

func appendFloat(buf []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(buf, "null"...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// AppendCSV appends row as one CSV record (no newline) with delimiter ','.
func AppendCSV(buf []byte, row udf.Row) []byte {
	for i, v := range row {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch v.K {
		case udf.TypeNull:
		case udf.TypeString:
			buf = appendCSVField(buf, v.S)
		case udf.TypeTimestamp:
			buf = time.UnixMilli(v.I).UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
		case udf.TypeVector:
			buf = appendCSVField(buf, string(AppendValueJSON(nil, v)))
		default:
			buf = AppendValueJSON(buf, v)
		}
	}
	return buf
}

func appendCSVField(buf []byte, s string) []byte {
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}
