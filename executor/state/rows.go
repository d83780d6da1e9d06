package state

import (
	"slices"
	"strings"

	"github.com/flowrun/flowrun/udf"
)

// RowAlloc hands out output rows carved from shared slabs of values: one
// allocation per slab instead of one per row. Rows are capacity-limited, so
// appending to one never overwrites its neighbour; a row belongs to whoever
// it was handed to (slabs are never reused). The zero RowAlloc is ready.
type RowAlloc struct{ slab []udf.Value }

// slabValues is the size of a slab in values.
const slabValues = 4096

// Row returns a row of n values.
func (a *RowAlloc) Row(n int) udf.Row {
	if n == 0 {
		return udf.Row{}
	}
	if len(a.slab) < n {
		a.slab = make([]udf.Value, max(slabValues, n))
	}
	r := a.slab[:n:n]
	a.slab = a.slab[n:]
	return r
}

// OwnValues copies values for state that outlives the input batch: decoded
// strings may share memory with the input record, so they are cloned (once
// per key, not per row).
func OwnValues(vs []udf.Value) []udf.Value {
	out := slices.Clone(vs)
	for i := range out {
		if out[i].K == udf.TypeString {
			out[i].S = strings.Clone(out[i].S)
		}
	}
	return out
}
