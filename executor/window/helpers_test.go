package window

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// sink is a Collector that records everything.
type sink struct {
	rows  []udf.Row
	ids   []uint64
	dead  []udf.Row
	class []executor.Class
}

func (s *sink) Emit(r udf.Row, id uint64) { s.rows = append(s.rows, r); s.ids = append(s.ids, id) }
func (s *sink) DeadLetter(c executor.Class, _ string, r udf.Row, _ []byte) {
	s.dead = append(s.dead, r)
	s.class = append(s.class, c)
}

// Input columns of the tests: k string (NULL sometimes), ts timestamp,
// x double (NULL sometimes), y bigint (NULL sometimes).
const (
	colK = iota
	colTS
	colX
	colY
)

var inSchema = planner.Schema{Columns: []planner.Column{
	{Name: "k", Type: udf.TypeString, Nullable: true},
	{Name: "ts", Type: udf.TypeTimestamp},
	{Name: "x", Type: udf.TypeDouble, Nullable: true},
	{Name: "y", Type: udf.TypeBigint, Nullable: true},
}, EventTime: colTS}

func col(i int) planner.Expr {
	c := inSchema.Columns[i]
	return &planner.ColumnRef{Index: i, Name: c.Name, T: c.Type}
}

type aggDef struct {
	name     string
	arg      int // -1 for COUNT(*)
	distinct bool
	consts   []udf.Value
}

// testAggs are the aggregates every window test computes.
var testAggs = []aggDef{
	{"COUNT", -1, false, nil},
	{"COUNT", colX, false, nil},
	{"COUNT", colY, true, nil},
	{"SUM", colX, false, nil},
	{"AVG", colX, false, nil},
	{"MIN", colX, false, nil},
	{"MAX", colY, false, nil},
	{"STDDEV_POP", colX, false, nil},
	{"STDDEV_SAMP", colX, false, nil},
	{"VAR_POP", colX, false, nil},
	{"VAR_SAMP", colX, false, nil},
	{"FIRST_VALUE", colY, false, nil},
	{"LAST_VALUE", colX, false, nil},
	{"APPROX_PERCENTILE", colX, false, []udf.Value{udf.Float(0.9)}},
	{"APPROX_COUNT_DISTINCT", colY, false, nil},
	{"SUM", colY, true, nil},
	{"AVG", colY, true, nil},
}

func aggCalls(t testing.TB) []planner.AggCall {
	var out []planner.AggCall
	for _, d := range testAggs {
		f, ok := udf.LookupAggregate(d.name)
		if !ok {
			t.Fatalf("no aggregate %s", d.name)
		}
		c := planner.AggCall{Func: f, Consts: d.consts, Distinct: d.distinct}
		var types []udf.Type
		if d.arg >= 0 {
			c.Args = []planner.Expr{col(d.arg)}
			types = append(types, inSchema.Columns[d.arg].Type)
		}
		for _, v := range d.consts {
			types = append(types, v.K)
		}
		c.T = udf.TypeDouble
		if f.Check != nil {
			tt, err := f.Check(types)
			if err != nil {
				t.Fatalf("%s: %v", d.name, err)
			}
			c.T = tt
		}
		out = append(out, c)
	}
	return out
}

// genRows makes n rows with unique event times spread over span ms, and
// returns them in a shuffled order with disorder up to jitter ms.
func genRows(rng *rand.Rand, n int, span, jitter int64, keys int) []udf.Row {
	step := span / int64(n)
	rows := make([]udf.Row, n)
	for i := range rows {
		k := udf.Str(fmt.Sprintf("k%d", rng.IntN(keys)))
		if rng.IntN(20) == 0 {
			k = udf.Null
		}
		x := udf.Float(math.Round(rng.Float64()*10000) / 100)
		if rng.IntN(10) == 0 {
			x = udf.Null
		}
		y := udf.Int(int64(rng.IntN(15)))
		if rng.IntN(20) == 0 {
			y = udf.Null
		}
		ts := int64(i)*step + rng.Int64N(step)
		rows[i] = udf.Row{k, udf.Time(ts), x, y}
	}
	type keyed struct {
		r udf.Row
		o int64
	}
	ks := make([]keyed, n)
	for i, r := range rows {
		ks[i] = keyed{r, r[colTS].I + rng.Int64N(jitter+1)}
		if rng.IntN(100) == 0 {
			ks[i].o += 6000 // a straggler, late for most windows
		}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].o < ks[j].o })
	for i := range ks {
		rows[i] = ks[i].r
	}
	return rows
}

// step is one message of a scripted run.
type step struct {
	rows []udf.Row
	wm   int64 // > MinWatermark: OnWatermark after the rows
}

// script cuts rows into batches of random size with watermarks advanced in
// arbitrary steps behind the max event time seen (lag up to maxLag).
func script(rng *rand.Rand, rows []udf.Row, maxLag int64) []step {
	var out []step
	maxTS, wm := int64(math.MinInt64), int64(math.MinInt64)
	for i := 0; i < len(rows); {
		n := 1 + rng.IntN(40)
		if i+n > len(rows) {
			n = len(rows) - i
		}
		st := step{rows: rows[i : i+n], wm: executor.MinWatermark}
		for _, r := range st.rows {
			maxTS = max(maxTS, r[colTS].I)
		}
		i += n
		if rng.IntN(3) > 0 {
			if w := maxTS - rng.Int64N(maxLag+1); w > wm {
				wm = w
				st.wm = w
			}
		}
		out = append(out, st)
	}
	out = append(out, step{wm: executor.MaxWatermark})
	return out
}

func keyOf(r udf.Row) string { return string(state.AppendKey(nil, r[colK])) }

// partition splits rows by key hash into n parts, as the runtime does.
func partition(rows []udf.Row, n int) [][]udf.Row {
	parts := make([][]udf.Row, n)
	for _, r := range rows {
		p := state.Hash([]byte(keyOf(r))) % uint64(n)
		parts[p] = append(parts[p], r)
	}
	return parts
}

// run plays a script into ops (rows partitioned across them by key hash)
// and returns the merged sink.
func run(t testing.TB, ops []executor.Operator, steps []step) *sink {
	out := &sink{}
	for _, st := range steps {
		if len(st.rows) > 0 {
			for p, part := range partition(st.rows, len(ops)) {
				if len(part) == 0 {
					continue
				}
				b := &executor.Batch{}
				for i, r := range part {
					b.Append(r, uint64(i))
				}
				if err := ops[p].Process(0, b, out); err != nil {
					t.Fatal(err)
				}
			}
		}
		if st.wm != executor.MinWatermark {
			for _, op := range ops {
				if err := op.OnWatermark(st.wm, out); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, op := range ops {
		if err := op.Close(out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// oracle computes every aggregate of testAggs over rows (a batch
// GROUP BY of one group) in plain Go.
func oracle(rows []udf.Row) []udf.Value {
	var xs []float64
	var xts []int64
	ys := map[int64]bool{}
	var firstY, lastX udf.Value
	firstTS, lastTS := int64(math.MaxInt64), int64(math.MinInt64)
	maxY := udf.Null
	for _, r := range rows {
		ts := r[colTS].I
		if r[colX].K != udf.TypeNull {
			xs = append(xs, r[colX].F)
			xts = append(xts, ts)
			if ts > lastTS {
				lastTS, lastX = ts, r[colX]
			}
		}
		if r[colY].K != udf.TypeNull {
			ys[r[colY].I] = true
			if ts < firstTS {
				firstTS, firstY = ts, r[colY]
			}
			if maxY.K == udf.TypeNull || r[colY].I > maxY.I {
				maxY = r[colY]
			}
		}
	}
	nullIf := func(cond bool, v udf.Value) udf.Value {
		if cond {
			return udf.Null
		}
		return v
	}
	n := float64(len(xs))
	var sum, mean, m2 float64
	for _, x := range xs {
		sum += x
	}
	mean = sum / n
	for _, x := range xs {
		m2 += (x - mean) * (x - mean)
	}
	minX := math.Inf(1)
	for _, x := range xs {
		minX = math.Min(minX, x)
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	var pct udf.Value
	if len(sorted) > 0 {
		pct = udf.Float(sorted[int(math.Floor(0.9*float64(len(sorted)-1)))])
	}
	var ysum int64
	for y := range ys {
		ysum += y
	}
	return []udf.Value{
		udf.Int(int64(len(rows))),
		udf.Int(int64(len(xs))),
		udf.Int(int64(len(ys))),
		nullIf(len(xs) == 0, udf.Float(sum)),
		nullIf(len(xs) == 0, udf.Float(mean)),
		nullIf(len(xs) == 0, udf.Float(minX)),
		maxY,
		nullIf(len(xs) == 0, udf.Float(math.Sqrt(m2/n))),
		nullIf(len(xs) < 2, udf.Float(math.Sqrt(m2/(n-1)))),
		nullIf(len(xs) == 0, udf.Float(m2/n)),
		nullIf(len(xs) < 2, udf.Float(m2/(n-1))),
		firstY,
		lastX,
		pct,
		udf.Int(int64(len(ys))),
		nullIf(len(ys) == 0, udf.Int(ysum)),
		nullIf(len(ys) == 0, udf.Float(float64(ysum)/float64(len(ys)))),
	}
}

// sameValue compares an aggregate result with the oracle: doubles within
// 1e-9 relative, APPROX_PERCENTILE within its ±1% bound.
func sameValue(i int, got, want udf.Value) bool {
	if got.K == udf.TypeNull || want.K == udf.TypeNull {
		return got.K == want.K
	}
	g, ok1 := got.AsFloat()
	w, ok2 := want.AsFloat()
	if !ok1 || !ok2 {
		return udf.Equal(got, want)
	}
	tol := 1e-9 * math.Max(1, math.Abs(w))
	if testAggs[i].name == "APPROX_PERCENTILE" {
		tol = 0.01*math.Abs(w) + 1e-12
	}
	return math.Abs(g-w) <= tol
}

func rowString(r udf.Row) string {
	var b strings.Builder
	for i, v := range r {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// outputKey is "key|start|end" of a window output row.
func outputKey(r udf.Row) string {
	return fmt.Sprintf("%s|%d|%d", r[0], r[1].I, r[2].I)
}

// multiset returns the sorted "id row" lines of a sink's output.
func multiset(s *sink) []string {
	out := make([]string, len(s.rows))
	for i, r := range s.rows {
		out[i] = fmt.Sprintf("%016x %s", s.ids[i], rowString(r))
	}
	slices.Sort(out)
	return out
}
