package engine

import (
	"math"

	"github.com/flowrun/flowrun/udf"
)

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// HashKey returns a stable 64-bit hash of the key columns of row: FNV-1a
// over each value's kind and payload bytes (little-endian integers, IEEE
// bits of doubles with -0 as 0 and one NaN, string bytes). The same key
// hashes the same in every process and run, so partitions are stable.
func HashKey(row udf.Row, keys []int) uint64 {
	h := uint64(fnvOffset)
	for _, k := range keys {
		var v udf.Value
		if k < len(row) {
			v = row[k]
		}
		h = hashValue(h, v)
	}
	// Finalize so that nearby keys spread over all partitions.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func hashByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func hashU64(h, x uint64) uint64 {
	for range 8 {
		h = hashByte(h, byte(x))
		x >>= 8
	}
	return h
}

func hashFloat(h uint64, f float64) uint64 {
	switch {
	case f == 0:
		f = 0
	case math.IsNaN(f):
		f = math.NaN()
	}
	return hashU64(h, math.Float64bits(f))
}

func hashValue(h uint64, v udf.Value) uint64 {
	h = hashByte(h, byte(v.K))
	switch v.K {
	case udf.TypeNull:
	case udf.TypeDouble:
		h = hashFloat(h, v.F)
	case udf.TypeString:
		for i := 0; i < len(v.S); i++ {
			h = hashByte(h, v.S[i])
		}
		h = hashByte(h, 0xff) // terminator: ("ab","c") != ("a","bc")
	case udf.TypeVector:
		h = hashU64(h, uint64(len(v.V)))
		for _, f := range v.V {
			h = hashFloat(h, f)
		}
	default:
		h = hashU64(h, uint64(v.I))
	}
	return h
}

// Partition maps a hash to one of n partitions.
func Partition(h uint64, n int) int {
	if n <= 1 {
		return 0
	}
	return int(h % uint64(n))
}
