package state

import (
	"encoding/binary"
	"math"

	"github.com/flowrun/flowrun/udf"
)

// Key tags of the canonical key encoding. Doubles with an integral value in
// the bigint range encode as bigints, so 1 and 1.0 are the same key (join
// keys of mixed numeric types match); -0 is 0 and every NaN is one key.
const (
	tagNull byte = iota
	tagInt
	tagFloat
	tagString
	tagBool
	tagTime
	tagVector
)

// AppendKey appends the canonical encoding of v to dst. Equal SQL values
// (NULL included) give equal bytes and different values different bytes; the
// encoding is stable across processes and machines, so its hash may be used
// for partitioning and deterministic row ids.
func AppendKey(dst []byte, v udf.Value) []byte {
	switch v.K {
	case udf.TypeNull:
		return append(dst, tagNull)
	case udf.TypeBigint:
		return binary.LittleEndian.AppendUint64(append(dst, tagInt), uint64(v.I))
	case udf.TypeDouble:
		f := v.F
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return binary.LittleEndian.AppendUint64(append(dst, tagInt), uint64(int64(f)))
		}
		bits := math.Float64bits(f)
		if f != f {
			bits = 0x7ff8000000000001
		}
		return binary.LittleEndian.AppendUint64(append(dst, tagFloat), bits)
	case udf.TypeString:
		dst = binary.AppendUvarint(append(dst, tagString), uint64(len(v.S)))
		return append(dst, v.S...)
	case udf.TypeBool:
		b := byte(0)
		if v.I != 0 {
			b = 1
		}
		return append(dst, tagBool, b)
	case udf.TypeTimestamp:
		return binary.LittleEndian.AppendUint64(append(dst, tagTime), uint64(v.I))
	case udf.TypeVector:
		dst = binary.AppendUvarint(append(dst, tagVector), uint64(len(v.V)))
		for _, x := range v.V {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
		}
		return dst
	}
	panic("state: AppendKey of unknown type")
}

// AppendRowKey appends the encodings of row[cols[i]] for every i.
func AppendRowKey(dst []byte, row udf.Row, cols []int) []byte {
	for _, c := range cols {
		dst = AppendKey(dst, row[c])
	}
	return dst
}

// FNV-1a 64 constants.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Hash returns a stable 64-bit hash of b (FNV-1a followed by a
// SplitMix64 finalizer, so low bits are usable for partitioning).
func Hash(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return fmix(h)
}

// HashString is Hash of a string key.
func HashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return fmix(h)
}

// Mix combines a hash with a 64-bit value (a window start, an update
// count, another id) into a new well-distributed 64-bit id.
func Mix(h, v uint64) uint64 {
	return fmix(h ^ fmix(v+0x9e3779b97f4a7c15))
}

func fmix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// HasNull reports whether any of row[cols[i]] is NULL (SQL join keys with
// a NULL never match).
func HasNull(row udf.Row, cols []int) bool {
	for _, c := range cols {
		if row[c].K == udf.TypeNull {
			return true
		}
	}
	return false
}
