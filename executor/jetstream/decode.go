package jetstream

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// DefaultMaxRecord is the largest record a source decodes, in bytes;
// larger ones are dead-lettered with class oversize.
const DefaultMaxRecord = 1 << 20

// DecodeError says why a record could not become a row: Class is decode
// (not JSON/CSV, invalid UTF-8), type (a value does not fit its column:
// wrong type, out of range, missing non-nullable column, a timestamp not in
// the source's timestampFormat) or oversize.
type DecodeError struct {
	Class  executor.Class
	Reason string
}

func (e *DecodeError) Error() string { return string(e.Class) + ": " + e.Reason }

type decCol struct {
	name     string
	t        udf.Type
	nullable bool
}

// Decoder decodes records of one source into rows of the source node's
// schema. Only the columns of SourceOp.Columns are decoded and type
// checked; other fields are skipped (their syntax is still checked).
// A Decoder is not safe for concurrent use.
//
// Strings of a decoded row may share memory with the record (no copy): the
// caller must not modify a record after decoding it.
type Decoder struct {
	csv     bool
	delim   byte
	quote   byte // CSV quote character; 0: no quoting (csv.quote: none)
	maxSize int
	cols    []decCol       // output columns
	byName  map[string]int // JSON key → output column
	declOut []int          // CSV: declared column → output column or -1
	ndecl   int
	seen    []bool
	fields  [][]byte // CSV scratch
	quoted  []bool
	ts      tsFormat // how timestamp columns are written
	tsName  string   // the source's timestampFormat, for messages (auto by default)
}

// NewDecoder returns the decoder of a source node. maxSize is the record
// size limit in bytes (0: DefaultMaxRecord).
func NewDecoder(op *planner.SourceOp, maxSize int) (*Decoder, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxRecord
	}
	d := &Decoder{maxSize: maxSize, ndecl: len(op.Decl), byName: map[string]int{}}
	switch op.Format {
	case "", "json":
	case "csv":
		d.csv = true
		var err error
		if d.delim, d.quote, err = csvSyntax(op.CSV); err != nil {
			return nil, fmt.Errorf("jetstream: source %s: %w", op.Source, err)
		}
	default:
		return nil, fmt.Errorf("jetstream: source %s: unknown format %q", op.Source, op.Format)
	}
	ts, err := parseTSFormat(op.TimestampFormat)
	if err != nil {
		return nil, fmt.Errorf("jetstream: source %s: %w", op.Source, err)
	}
	d.ts, d.tsName = ts, op.TimestampFormat
	if d.tsName == "" {
		d.tsName = spec.TimestampAuto
	}
	cols := op.Columns
	if len(cols) == 0 {
		cols = make([]int, len(op.Decl))
		for i := range cols {
			cols[i] = i
		}
	}
	d.declOut = make([]int, len(op.Decl))
	for i := range d.declOut {
		d.declOut[i] = -1
	}
	for j, ci := range cols {
		if ci < 0 || ci >= len(op.Decl) {
			return nil, fmt.Errorf("jetstream: source %s: column index %d out of range", op.Source, ci)
		}
		c := op.Decl[ci]
		d.cols = append(d.cols, decCol{name: c.Name, t: c.Type, nullable: c.Nullable})
		d.byName[c.Name] = j
		d.declOut[ci] = j
	}
	d.seen = make([]bool, len(d.cols))
	return d, nil
}

// Width is the number of columns of a decoded row.
func (d *Decoder) Width() int { return len(d.cols) }

// Decode decodes data into row, which has Width() values.
func (d *Decoder) Decode(data []byte, row udf.Row) *DecodeError {
	if len(data) > d.maxSize {
		return &DecodeError{executor.ClassOversize, fmt.Sprintf("record is %d bytes, more than the limit of %d", len(data), d.maxSize)}
	}
	if !utf8.Valid(data) {
		return &DecodeError{executor.ClassDecode, "invalid UTF-8"}
	}
	if d.csv {
		return d.decodeCSV(data, row)
	}
	return d.decodeJSON(data, row)
}

func decodeErr(format string, args ...any) *DecodeError {
	return &DecodeError{executor.ClassDecode, fmt.Sprintf(format, args...)}
}

func typeErr(format string, args ...any) *DecodeError {
	return &DecodeError{executor.ClassType, fmt.Sprintf(format, args...)}
}

// b2s returns the bytes as a string without copying.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// ---- JSON ----

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) errf(format string, args ...any) *DecodeError {
	return decodeErr("invalid JSON at byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

// str parses a string at s.i (which is '"'). It returns the string
// without copying when it has no escapes.
func (s *scanner) str() (string, *DecodeError) {
	s.i++ // opening quote
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := b2s(s.b[start:s.i])
			s.i++
			return v, nil
		}
		if c == '\\' {
			return s.strEscaped(start)
		}
		if c < 0x20 {
			return "", s.errf("control character in string")
		}
		s.i++
	}
	return "", s.errf("unterminated string")
}

func (s *scanner) strEscaped(start int) (string, *DecodeError) {
	buf := make([]byte, 0, s.i-start+16)
	buf = append(buf, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return b2s(buf), nil
		case c < 0x20:
			return "", s.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.i++
			continue
		}
		s.i++
		if s.i >= len(s.b) {
			break
		}
		e := s.b[s.i]
		s.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.errf("bad \\u escape")
			}
			if r >= 0xD800 && r < 0xDC00 { // surrogate pair
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					r2, ok := s.hex4()
					if !ok {
						return "", s.errf("bad \\u escape")
					}
					if r2 >= 0xDC00 && r2 < 0xE000 {
						r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", s.errf("bad escape \\%c", e)
		}
	}
	return "", s.errf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// num scans a JSON number and returns its text; isInt reports that it has
// no fraction or exponent.
func (s *scanner) num() (text []byte, isInt bool, err *DecodeError) {
	start := s.i
	isInt = true
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return nil, false, s.errf("bad number")
	}
	switch c := s.b[s.i]; {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	default:
		return nil, false, s.errf("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		isInt = false
		s.i++
		d := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == d {
			return nil, false, s.errf("bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		isInt = false
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		d := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == d {
			return nil, false, s.errf("bad number")
		}
	}
	return s.b[start:s.i], isInt, nil
}

func (s *scanner) lit(word string) *DecodeError {
	if s.i+len(word) > len(s.b) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.errf("unexpected character %q", s.b[s.i])
	}
	s.i += len(word)
	return nil
}

// skip skips one value of any kind.
func (s *scanner) skip(depth int) *DecodeError {
	if depth > 64 {
		return s.errf("nesting deeper than 64")
	}
	s.ws()
	if s.i >= len(s.b) {
		return s.errf("unexpected end")
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == closer {
			s.i++
			return nil
		}
		for {
			if c == '{' {
				s.ws()
				if s.i >= len(s.b) || s.b[s.i] != '"' {
					return s.errf("want object key")
				}
				if _, err := s.str(); err != nil {
					return err
				}
				s.ws()
				if s.i >= len(s.b) || s.b[s.i] != ':' {
					return s.errf("want ':'")
				}
				s.i++
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.errf("unexpected end")
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == closer {
				s.i++
				return nil
			}
			return s.errf("want ',' or '%c'", closer)
		}
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		_, _, err := s.num()
		return err
	}
}

func (d *Decoder) decodeJSON(data []byte, row udf.Row) *DecodeError {
	s := scanner{b: data}
	for i := range d.seen {
		d.seen[i] = false
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		if s.i >= len(s.b) {
			return s.errf("empty record")
		}
		return s.errf("want an object")
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return s.errf("want object key")
			}
			key, err := s.str()
			if err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return s.errf("want ':'")
			}
			s.i++
			s.ws()
			if j, ok := d.byName[key]; ok {
				v, err := d.jsonValue(&s, j)
				if err != nil {
					return err
				}
				row[j] = v
				d.seen[j] = true
			} else if err := s.skip(0); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.errf("unexpected end")
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == '}' {
				s.i++
				break
			}
			return s.errf("want ',' or '}'")
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return s.errf("data after the object")
	}
	for j, ok := range d.seen {
		if ok {
			continue
		}
		if !d.cols[j].nullable {
			return typeErr("column %q: missing (not nullable)", d.cols[j].name)
		}
		row[j] = udf.Null
	}
	return nil
}

func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// jsonValue decodes the value at s.i into column j.
func (d *Decoder) jsonValue(s *scanner, j int) (udf.Value, *DecodeError) {
	if s.i >= len(s.b) {
		return udf.Null, s.errf("unexpected end")
	}
	col := &d.cols[j]
	c := s.b[s.i]
	if c == 'n' {
		if err := s.lit("null"); err != nil {
			return udf.Null, err
		}
		if !col.nullable {
			return udf.Null, typeErr("column %q: null (not nullable)", col.name)
		}
		return udf.Null, nil
	}
	wrong := func() (udf.Value, *DecodeError) {
		// Check the syntax first: broken JSON is a decode error.
		if err := s.skip(0); err != nil {
			return udf.Null, err
		}
		return udf.Null, typeErr("column %q: want %s, got %s", col.name, col.t, jsonKind(c))
	}
	switch col.t {
	case udf.TypeBigint, udf.TypeDouble, udf.TypeTimestamp:
		if col.t == udf.TypeTimestamp && d.ts.kind != tsAuto {
			// A string or a number, parsed as the source's timestampFormat.
			var text string
			switch {
			case c == '"':
				str, err := s.str()
				if err != nil {
					return udf.Null, err
				}
				text = str
			case c == '-' || c >= '0' && c <= '9':
				num, _, err := s.num()
				if err != nil {
					return udf.Null, err
				}
				text = b2s(num)
			default:
				return wrong()
			}
			return d.timeValue(col, text)
		}
		if c == '"' && col.t == udf.TypeTimestamp {
			str, err := s.str()
			if err != nil {
				return udf.Null, err
			}
			ms, ok := parseTime(str)
			if !ok {
				return udf.Null, typeErr("column %q: %q is not an RFC 3339 or ISO 8601 time (timestampFormat auto)", col.name, str)
			}
			return udf.Time(ms), nil
		}
		if c != '-' && (c < '0' || c > '9') {
			return wrong()
		}
		text, isInt, err := s.num()
		if err != nil {
			return udf.Null, err
		}
		return numValue(col, text, isInt)
	case udf.TypeString:
		if c != '"' {
			return wrong()
		}
		str, err := s.str()
		if err != nil {
			return udf.Null, err
		}
		return udf.Str(str), nil
	case udf.TypeBool:
		switch c {
		case 't':
			return udf.Bool(true), s.lit("true")
		case 'f':
			return udf.Bool(false), s.lit("false")
		}
		return wrong()
	case udf.TypeVector:
		if c != '[' {
			return wrong()
		}
		return d.jsonVector(s, col)
	}
	return wrong()
}

func (d *Decoder) jsonVector(s *scanner, col *decCol) (udf.Value, *DecodeError) {
	s.i++
	var v []float64
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return udf.Vec([]float64{}), nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) {
			return udf.Null, s.errf("unexpected end")
		}
		if c := s.b[s.i]; c != '-' && (c < '0' || c > '9') {
			if err := s.skip(0); err != nil {
				return udf.Null, err
			}
			return udf.Null, typeErr("column %q: vector element %d is a %s, not a number", col.name, len(v), jsonKind(c))
		}
		text, _, err := s.num()
		if err != nil {
			return udf.Null, err
		}
		f, perr := strconv.ParseFloat(b2s(text), 64)
		if perr != nil {
			return udf.Null, typeErr("column %q: vector element %s out of range", col.name, text)
		}
		v = append(v, f)
		s.ws()
		if s.i >= len(s.b) {
			return udf.Null, s.errf("unexpected end")
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == ']' {
			s.i++
			return udf.Vec(v), nil
		}
		return udf.Null, s.errf("want ',' or ']'")
	}
}

// numValue converts a number's text to the column's type.
func numValue(col *decCol, text []byte, isInt bool) (udf.Value, *DecodeError) {
	if isInt {
		if i, ok := parseInt(text); ok {
			switch col.t {
			case udf.TypeBigint:
				return udf.Int(i), nil
			case udf.TypeTimestamp:
				return udf.Time(i), nil
			}
			return udf.Float(float64(i)), nil
		}
	}
	f, err := strconv.ParseFloat(b2s(text), 64)
	if err != nil || math.IsInf(f, 0) {
		return udf.Null, typeErr("column %q: %s out of range for %s", col.name, text, col.t)
	}
	if col.t == udf.TypeDouble {
		return udf.Float(f), nil
	}
	if f != math.Trunc(f) {
		return udf.Null, typeErr("column %q: %s is not an integer", col.name, text)
	}
	if f < -9.223372036854775e18 || f >= 9.223372036854775e18 {
		return udf.Null, typeErr("column %q: %s out of range for %s", col.name, text, col.t)
	}
	if col.t == udf.TypeTimestamp {
		return udf.Time(int64(f)), nil
	}
	return udf.Int(int64(f)), nil
}

// parseInt parses an optionally negative decimal integer without
// allocating; ok is false on overflow.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// ---- CSV ----

// csvSyntax returns the delimiter and the quote character (0: none) of
// CSV options.
func csvSyntax(o spec.CSVOptions) (delim, quote byte, err error) {
	delim = ','
	if o.Delimiter != "" {
		if len(o.Delimiter) != 1 {
			return 0, 0, fmt.Errorf("csv delimiter %q must be one byte", o.Delimiter)
		}
		delim = o.Delimiter[0]
	}
	quote, err = spec.CheckCSVQuote(o.Quote, string(delim))
	return delim, quote, err
}

// SplitCSV splits one CSV record (without its line end) into its fields
// as a source with the CSV options o reads it, quoting included.
func SplitCSV(o spec.CSVOptions, record []byte) ([]string, error) {
	d := &Decoder{csv: true}
	var err error
	if d.delim, d.quote, err = csvSyntax(o); err != nil {
		return nil, err
	}
	if derr := d.splitCSV(record); derr != nil {
		return nil, errors.New(derr.Reason)
	}
	out := make([]string, len(d.fields))
	for i, f := range d.fields {
		out[i] = string(f)
	}
	return out, nil
}

// splitCSV splits one CSV record into d.fields. Quoting follows RFC 4180
// leniently (like encoding/csv's LazyQuotes): a field that starts with a
// quote is quoted ("" is a quote inside it); a quote elsewhere in a field,
// or a quoted field followed by anything but the delimiter, is kept as
// literal text. Only an unterminated quoted field is an error. The quote
// is d.quote ('"' by default); with none (0), splitPlain splits.
func (d *Decoder) splitCSV(data []byte) *DecodeError {
	d.fields = d.fields[:0]
	d.quoted = d.quoted[:0]
	for len(data) > 0 && (data[len(data)-1] == '\n' || data[len(data)-1] == '\r') {
		data = data[:len(data)-1]
	}
	q := d.quote
	if q == 0 {
		d.splitPlain(data)
		return nil
	}
	i := 0
	for {
		start := i
		if i < len(data) && data[i] == q {
			if field, next, ok := d.quotedField(data, i); ok {
				d.fields = append(d.fields, field)
				d.quoted = append(d.quoted, true)
				i = next
				if i >= len(data) {
					return nil
				}
				i++ // delimiter
				continue
			} else if next < 0 {
				return decodeErr("invalid CSV: unterminated quoted field %d", len(d.fields)+1)
			}
		}
		for i < len(data) && data[i] != d.delim {
			i++
		}
		d.fields = append(d.fields, data[start:i])
		d.quoted = append(d.quoted, false)
		if i >= len(data) {
			return nil
		}
		i++ // delimiter
	}
}

// splitPlain splits a record without quoting (csv.quote: none): every
// byte up to the next delimiter is field text.
func (d *Decoder) splitPlain(data []byte) {
	for {
		i := bytes.IndexByte(data, d.delim)
		if i < 0 {
			d.fields = append(d.fields, data)
			d.quoted = append(d.quoted, false)
			return
		}
		d.fields = append(d.fields, data[:i])
		d.quoted = append(d.quoted, false)
		data = data[i+1:]
	}
}

// quotedField parses the quoted field at data[i] == d.quote. ok is false
// when the closing quote is not followed by the delimiter or the end (then
// the field is literal text); next is -1 when the quote is never closed.
func (d *Decoder) quotedField(data []byte, i int) (field []byte, next int, ok bool) {
	q := d.quote
	i++
	var buf []byte
	start := i
	for {
		k := bytes.IndexByte(data[i:], q)
		if k < 0 {
			return nil, -1, false
		}
		i += k
		if i+1 < len(data) && data[i+1] == q {
			buf = append(buf, data[start:i+1]...)
			i += 2
			start = i
			continue
		}
		break
	}
	field = data[start:i]
	if buf != nil {
		field = append(buf, field...)
	}
	i++ // closing quote
	if i < len(data) && data[i] != d.delim {
		return nil, i, false
	}
	return field, i, true
}

func (d *Decoder) decodeCSV(data []byte, row udf.Row) *DecodeError {
	if err := d.splitCSV(data); err != nil {
		return err
	}
	if len(d.fields) != d.ndecl {
		return decodeErr("CSV record has %d fields, want %d", len(d.fields), d.ndecl)
	}
	for k, f := range d.fields {
		j := d.declOut[k]
		if j < 0 {
			continue
		}
		v, err := d.csvValue(&d.cols[j], f, d.quoted[k])
		if err != nil {
			return err
		}
		row[j] = v
	}
	return nil
}

func (d *Decoder) csvValue(col *decCol, f []byte, quoted bool) (udf.Value, *DecodeError) {
	if len(f) == 0 && !(quoted && col.t == udf.TypeString) {
		if col.nullable {
			return udf.Null, nil
		}
		if col.t != udf.TypeString {
			return udf.Null, typeErr("column %q: empty (not nullable)", col.name)
		}
	}
	switch col.t {
	case udf.TypeString:
		return udf.Str(b2s(f)), nil
	case udf.TypeBool:
		switch b2s(f) {
		case "true", "TRUE", "True", "1":
			return udf.Bool(true), nil
		case "false", "FALSE", "False", "0":
			return udf.Bool(false), nil
		}
		return udf.Null, typeErr("column %q: want bool, got %q", col.name, f)
	case udf.TypeBigint, udf.TypeDouble, udf.TypeTimestamp:
		if col.t == udf.TypeTimestamp && d.ts.kind != tsAuto {
			return d.timeValue(col, b2s(f))
		}
		s := scanner{b: f}
		if len(f) > 0 && (f[0] == '-' || f[0] >= '0' && f[0] <= '9') {
			text, isInt, err := s.num()
			if err == nil && s.i == len(f) {
				return numValue(col, text, isInt)
			}
		}
		if col.t == udf.TypeTimestamp {
			if ms, ok := parseTime(b2s(f)); ok {
				return udf.Time(ms), nil
			}
			return udf.Null, typeErr("column %q: %q is not an RFC 3339 or ISO 8601 time or epoch milliseconds (timestampFormat auto)", col.name, f)
		}
		return udf.Null, typeErr("column %q: want %s, got %q", col.name, col.t, f)
	case udf.TypeVector:
		s := scanner{b: f}
		s.ws()
		if s.i < len(f) && f[s.i] == '[' {
			v, err := d.jsonVector(&s, col)
			if err == nil {
				s.ws()
				if s.i == len(f) {
					return v, nil
				}
			} else if err.Class == executor.ClassType {
				return udf.Null, err
			}
		}
		return udf.Null, typeErr("column %q: want vector [x, y, ...], got %q", col.name, f)
	}
	return udf.Null, typeErr("column %q: unsupported type %s", col.name, col.t)
}

// DeclColumns returns the columns of a source's declared schema as plain
// planner columns.
func DeclColumns(decl []spec.Column) []planner.Column {
	out := make([]planner.Column, len(decl))
	for i, c := range decl {
		out[i] = planner.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	return out
}

// ---- timestamps ----

// tsKind is the kind of a source's timestampFormat.
type tsKind uint8

const (
	tsAuto   tsKind = iota // RFC 3339 / ISO 8601 strings, integers of epoch milliseconds
	tsEpoch                // numbers of epoch seconds, milli-, micro- or nanoseconds
	tsLayout               // strings in a Go time layout
)

// tsFormat is how the timestamp columns of a source are written
// (planner.SourceOp.TimestampFormat).
type tsFormat struct {
	kind   tsKind
	shift  int    // tsEpoch: milliseconds = value × 10^shift
	unit   string // tsEpoch: seconds, milliseconds, ...
	layout string // tsLayout
}

// parseTSFormat returns the format of a timestampFormat value: "" or
// auto, one of the epoch units, or a Go time layout.
func parseTSFormat(f string) (tsFormat, error) {
	switch f {
	case "", spec.TimestampAuto:
		return tsFormat{}, nil
	case spec.TimestampEpochSeconds:
		return tsFormat{kind: tsEpoch, shift: 3, unit: "seconds"}, nil
	case spec.TimestampEpochMillis:
		return tsFormat{kind: tsEpoch, shift: 0, unit: "milliseconds"}, nil
	case spec.TimestampEpochMicros:
		return tsFormat{kind: tsEpoch, shift: -3, unit: "microseconds"}, nil
	case spec.TimestampEpochNanos:
		return tsFormat{kind: tsEpoch, shift: -6, unit: "nanoseconds"}, nil
	}
	if err := spec.CheckTimestampLayout(f); err != nil {
		return tsFormat{}, fmt.Errorf("timestampFormat %q: want %s or a Go time layout (%v)", f, strings.Join(spec.TimestampFormats, ", "), err)
	}
	return tsFormat{kind: tsLayout, layout: f}, nil
}

// parse parses the text of a value (a string, or a JSON number's text)
// into epoch milliseconds. When it fails, why says so, naming the value
// and the format expected.
func (f *tsFormat) parse(s, name string) (ms int64, why string) {
	switch f.kind {
	case tsEpoch:
		ms, st := parseEpoch(s, f.shift)
		switch st {
		case epochBad:
			return 0, fmt.Sprintf("%q is not a number of epoch %s (timestampFormat %s)", s, f.unit, name)
		case epochRange:
			return 0, fmt.Sprintf("%q is out of range for timestamp (timestampFormat %s)", s, name)
		}
		return ms, ""
	case tsLayout:
		t, err := time.Parse(f.layout, s)
		if err != nil {
			detail := ""
			if pe, ok := err.(*time.ParseError); ok && pe.Message != "" {
				detail = pe.Message // e.g. ": month out of range"
			}
			return 0, fmt.Sprintf("%q does not match timestampFormat %q%s", s, f.layout, detail)
		}
		return t.UnixMilli(), ""
	}
	if ms, ok := parseTime(s); ok {
		return ms, ""
	}
	if ms, ok := parseInt([]byte(s)); ok {
		return ms, ""
	}
	return 0, fmt.Sprintf("%q is not an RFC 3339 or ISO 8601 time or epoch milliseconds (timestampFormat %s)", s, name)
}

// timeValue decodes the text of a timestamp value in the source's
// (non-auto) timestampFormat.
func (d *Decoder) timeValue(col *decCol, s string) (udf.Value, *DecodeError) {
	ms, why := d.ts.parse(s, d.tsName)
	if why != "" {
		return udf.Null, typeErr("column %q: %s", col.name, why)
	}
	return udf.Time(ms), nil
}

// ParseTimestamp parses s, a timestamp written as format says (a
// source's timestampFormat: "" or auto, an epoch unit, or a Go time
// layout), into epoch milliseconds, as the source decoder does. In auto
// format, an integer is epoch milliseconds.
func ParseTimestamp(format, s string) (int64, error) {
	f, err := parseTSFormat(format)
	if err != nil {
		return 0, err
	}
	if format == "" {
		format = spec.TimestampAuto
	}
	ms, why := f.parse(s, format)
	if why != "" {
		return 0, errors.New(why)
	}
	return ms, nil
}

// parseTime parses a time string of timestampFormat auto into epoch
// milliseconds. The common shapes are parsed by hand, without allocating:
//
//	YYYY-MM-DD
//	YYYY-MM-DD[T ]hh:mm[:ss[.fraction]][Z|±hh:mm|±hhmm|±hh]
//
// (no zone is UTC; ',' may separate the fraction). Anything else goes to
// time.Parse(time.RFC3339Nano), so that every string read before this
// parser existed (such as a one-digit hour) is read the same way.
func parseTime(s string) (int64, bool) {
	if ms, ok := udf.ParseISOTime(s); ok {
		return ms, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// The results of parseEpoch.
const (
	epochOK = iota
	epochBad
	epochRange
)

// parseEpoch parses a decimal number (an optional sign, digits, an
// optional fraction and exponent) and returns floor(number × 10^shift):
// with shift 3 a number of seconds becomes milliseconds. Without an
// exponent the arithmetic is exact.
func parseEpoch(s string, shift int) (int64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[start:i]
	if len(intPart) == 0 {
		return 0, epochBad
	}
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if frac = s[fs:i]; len(frac) == 0 {
			return 0, epochBad
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == j || k != len(s) {
			return 0, epochBad
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, epochRange
		}
		v := math.Floor(f * math.Pow10(shift))
		if math.IsNaN(v) || v < -9.223372036854775e18 || v >= 9.223372036854775e18 {
			return 0, epochRange
		}
		return int64(v), epochOK
	}
	if i != len(s) {
		return 0, epochBad
	}
	var u uint64
	over := false
	push := func(c byte) {
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			over = true
			return
		}
		u = u*10 + d
	}
	for k := 0; k < len(intPart); k++ {
		push(intPart[k])
	}
	rem := false // a non-zero remainder below the unit of the result
	if shift >= 0 {
		for k := 0; k < shift; k++ {
			c := byte('0')
			if k < len(frac) {
				c = frac[k]
			}
			push(c)
		}
		if shift < len(frac) {
			rem = strings.Trim(frac[shift:], "0") != ""
		}
	} else {
		rem = strings.Trim(frac, "0") != ""
		div := uint64(1)
		for range -shift {
			div *= 10
		}
		rem = rem || u%div != 0
		u /= div
	}
	if over || u > 1<<63 || !neg && u > math.MaxInt64 {
		return 0, epochRange
	}
	if !neg {
		return int64(u), epochOK
	}
	v := int64(-u) // u <= 1<<63
	if rem {
		if v == math.MinInt64 {
			return 0, epochRange
		}
		v--
	}
	return v, epochOK
}
