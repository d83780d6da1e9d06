package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/flowrun/flowrun/udf"
)

// ErrCorrupt is returned (wrapped) when a snapshot cannot be decoded: wrong
// magic, unknown version, another operator's snapshot, truncated data.
var ErrCorrupt = errors.New("corrupt state snapshot")

// Snapshot header: magic, format version, operator kind.
const (
	magic   = "FRS"
	version = 1
)

// Encoder builds a snapshot. The encoding is little-endian with varints,
// deterministic for a given state (callers write map contents in sorted key
// order) and portable across machines.
type Encoder struct{ buf []byte }

// NewEncoder starts a snapshot of an operator of the given kind ("window",
// "groupagg", ...); Decoder checks the kind on restore.
func NewEncoder(kind string) *Encoder {
	e := &Encoder{buf: make([]byte, 0, 256)}
	e.buf = append(e.buf, magic...)
	e.buf = append(e.buf, version)
	e.String(kind)
	return e
}

// Bytes returns the encoded snapshot.
func (e *Encoder) Bytes() []byte { return e.buf }

// Uvarint writes an unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

// Varint writes a signed varint.
func (e *Encoder) Varint(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

// Uint64 writes 8 bytes.
func (e *Encoder) Uint64(v uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }

// Bool writes one byte.
func (e *Encoder) Bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Blob writes a length-prefixed byte string.
func (e *Encoder) Blob(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// String writes a length-prefixed string.
func (e *Encoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// Value writes one SQL value.
func (e *Encoder) Value(v udf.Value) {
	e.buf = append(e.buf, byte(v.K))
	switch v.K {
	case udf.TypeNull:
	case udf.TypeBigint, udf.TypeBool, udf.TypeTimestamp:
		e.Varint(v.I)
	case udf.TypeDouble:
		e.Uint64(math.Float64bits(v.F))
	case udf.TypeString:
		e.String(v.S)
	case udf.TypeVector:
		e.Uvarint(uint64(len(v.V)))
		for _, x := range v.V {
			e.Uint64(math.Float64bits(x))
		}
	default:
		panic(fmt.Sprintf("state: encode value of type %d", v.K))
	}
}

// Row writes a row.
func (e *Encoder) Row(r udf.Row) {
	e.Uvarint(uint64(len(r)))
	for _, v := range r {
		e.Value(v)
	}
}

// Agg writes an aggregate state (length-prefixed MarshalBinary).
func (e *Encoder) Agg(s udf.AggState) error {
	b, err := s.MarshalBinary()
	if err != nil {
		return err
	}
	e.Blob(b)
	return nil
}

// Decoder reads a snapshot written by Encoder. The first error sticks: the
// reads after it return zero values and Err reports it.
type Decoder struct {
	buf []byte
	err error
}

// NewDecoder checks the header of a snapshot of an operator of kind.
func NewDecoder(b []byte, kind string) (*Decoder, error) {
	if len(b) < len(magic)+1 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if b[len(magic)] != version {
		return nil, fmt.Errorf("%w: unsupported version %d (want %d)", ErrCorrupt, b[len(magic)], version)
	}
	d := &Decoder{buf: b[len(magic)+1:]}
	if k := d.String(); d.err != nil || k != kind {
		return nil, fmt.Errorf("%w: snapshot of %q, want %q", ErrCorrupt, k, kind)
	}
	return d, nil
}

// Err returns the first decoding error.
func (d *Decoder) Err() error { return d.err }

// Done returns the first error, or an error if bytes are left over.
func (d *Decoder) Done() error {
	if d.err == nil && len(d.buf) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.buf))
	}
	return d.err
}

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
	}
	d.buf = nil
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Len reads a length and checks it against the bytes left (each element
// takes at least one byte), so corrupt input cannot make a huge allocation.
func (d *Decoder) Len() int {
	v := d.Uvarint()
	if v > uint64(len(d.buf)) {
		d.fail("length")
		return 0
	}
	return int(v)
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Uint64 reads 8 bytes.
func (d *Decoder) Uint64() uint64 {
	if len(d.buf) < 8 {
		d.fail("uint64")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.buf)
	d.buf = d.buf[8:]
	return v
}

// Bool reads one byte.
func (d *Decoder) Bool() bool {
	if len(d.buf) < 1 {
		d.fail("bool")
		return false
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b != 0
}

// Blob reads a length-prefixed byte string (a copy).
func (d *Decoder) Blob() []byte {
	n := d.Len()
	if d.err != nil {
		return nil
	}
	b := append([]byte(nil), d.buf[:n]...)
	d.buf = d.buf[n:]
	return b
}

// String reads a length-prefixed string.
func (d *Decoder) String() string {
	n := d.Len()
	if d.err != nil {
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

// Value reads one SQL value.
func (d *Decoder) Value() udf.Value {
	if len(d.buf) < 1 {
		d.fail("value")
		return udf.Null
	}
	k := udf.Type(d.buf[0])
	d.buf = d.buf[1:]
	switch k {
	case udf.TypeNull:
		return udf.Null
	case udf.TypeBigint, udf.TypeBool, udf.TypeTimestamp:
		return udf.Value{K: k, I: d.Varint()}
	case udf.TypeDouble:
		return udf.Float(math.Float64frombits(d.Uint64()))
	case udf.TypeString:
		return udf.Str(d.String())
	case udf.TypeVector:
		n := d.Len()
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(d.Uint64())
		}
		return udf.Vec(v)
	}
	if d.err == nil {
		d.err = fmt.Errorf("%w: value of unknown type %d", ErrCorrupt, k)
	}
	d.buf = nil
	return udf.Null
}

// Row reads a row.
func (d *Decoder) Row() udf.Row {
	n := d.Len()
	if d.err != nil {
		return nil
	}
	r := make(udf.Row, n)
	for i := range r {
		r[i] = d.Value()
	}
	return r
}

// Agg restores an aggregate state into s (fresh from its Aggregate's New).
func (d *Decoder) Agg(s udf.AggState) {
	b := d.Blob()
	if d.err != nil {
		return
	}
	if err := s.UnmarshalBinary(b); err != nil {
		d.err = fmt.Errorf("%w: aggregate state: %v", ErrCorrupt, err)
		d.buf = nil
	}
}
