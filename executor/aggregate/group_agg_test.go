package aggregate

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

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

// Input: k string, ts timestamp, x double (NULL sometimes), y bigint.
var inSchema = planner.Schema{Columns: []planner.Column{
	{Name: "k", Type: udf.TypeString}, {Name: "ts", Type: udf.TypeTimestamp},
	{Name: "x", Type: udf.TypeDouble, Nullable: true}, {Name: "y", Type: udf.TypeBigint},
}, EventTime: 1}

func col(i int) planner.Expr {
	c := inSchema.Columns[i]
	return &planner.ColumnRef{Index: i, Name: c.Name, T: c.Type}
}

func agg(name string, arg int, distinct bool, t udf.Type) planner.AggCall {
	f, _ := udf.LookupAggregate(name)
	c := planner.AggCall{Func: f, Distinct: distinct, T: t}
	if arg >= 0 {
		c.Args = []planner.Expr{col(arg)}
	}
	return c
}

func newNode(lim state.Limits) *planner.Node {
	return &planner.Node{ID: 2, Stage: "totals", Op: &planner.GroupAggOp{
		Keys: []planner.Expr{col(0)},
		Aggs: []planner.AggCall{
			agg("COUNT", -1, false, udf.TypeBigint),
			agg("SUM", 2, false, udf.TypeDouble),
			agg("MAX", 3, false, udf.TypeBigint),
			agg("COUNT", 3, true, udf.TypeBigint),
			agg("LAST_VALUE", 2, false, udf.TypeDouble),
		},
	}, State: []planner.State{{Name: "groups", MaxKeys: lim.MaxKeys, TTL: 0}}}
}

func newOp(t testing.TB, lim state.Limits) *GroupAgg {
	node := newNode(lim)
	op, err := New(node, []planner.Schema{inSchema}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := op.(*GroupAgg)
	g.lim, g.st = lim, state.NewKeyed[group](lim)
	return g
}

func genRows(rng *rand.Rand, n, keys int) []udf.Row {
	rows := make([]udf.Row, n)
	for i := range rows {
		x := udf.Float(float64(rng.IntN(1000)) / 4)
		if rng.IntN(8) == 0 {
			x = udf.Null
		}
		rows[i] = udf.Row{udf.Str(fmt.Sprintf("k%d", rng.IntN(keys))), udf.Time(int64(i*10) + rng.Int64N(30)),
			x, udf.Int(int64(rng.IntN(10)))}
	}
	return rows
}

// expected replays rows per key in arrival order, as a batch GROUP BY over
// each prefix.
func expected(rows []udf.Row) []string {
	type acc struct {
		n, cnt  int64
		sum     float64
		hasX    bool
		maxY    int64
		ys      map[int64]bool
		lastTS  int64
		lastX   udf.Value
		nonNull bool
	}
	accs := map[string]*acc{}
	var out []string
	for _, r := range rows {
		a := accs[r[0].S]
		if a == nil {
			a = &acc{maxY: math.MinInt64, ys: map[int64]bool{}, lastTS: math.MinInt64}
			accs[r[0].S] = a
		}
		a.n++
		if r[2].K != udf.TypeNull {
			a.sum += r[2].F
			a.hasX = true
			if r[1].I >= a.lastTS {
				a.lastTS, a.lastX = r[1].I, r[2]
			}
		}
		a.maxY = max(a.maxY, r[3].I)
		a.ys[r[3].I] = true
		sum := udf.Null
		if a.hasX {
			sum = udf.Float(a.sum)
		}
		out = append(out, fmt.Sprint(r[0], a.n, sum, a.maxY, len(a.ys), a.lastX))
	}
	return out
}

func line(r udf.Row) string { return fmt.Sprint(r[0], r[1], r[2], r[3], r[4], r[5]) }

func runRows(t testing.TB, ops []*GroupAgg, rows []udf.Row, out *sink) {
	for _, r := range rows {
		p := state.Hash(state.AppendKey(nil, r[0])) % uint64(len(ops))
		b := &executor.Batch{}
		b.Append(r, 0)
		if err := ops[p].Process(0, b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGroupAggOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := genRows(rng, 4000, 50)
	one := &sink{}
	runRows(t, []*GroupAgg{newOp(t, state.Limits{})}, rows, one)
	want := expected(rows)
	if len(one.rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(one.rows), len(want))
	}
	for i, r := range one.rows {
		if got := line(r); got != want[i] {
			t.Fatalf("row %d: got %s, want %s", i, got, want[i])
		}
	}
	ids := map[uint64]bool{}
	for _, id := range one.ids {
		if ids[id] {
			t.Fatal("duplicate id")
		}
		ids[id] = true
	}
	four := &sink{}
	ops := []*GroupAgg{newOp(t, state.Limits{}), newOp(t, state.Limits{}), newOp(t, state.Limits{}), newOp(t, state.Limits{})}
	runRows(t, ops, rows, four)
	ms := func(s *sink) []string {
		var out []string
		for i, r := range s.rows {
			out = append(out, fmt.Sprintf("%x %s", s.ids[i], line(r)))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ms(one), ms(four)) {
		t.Error("1 and 4 tasks differ")
	}
}

func TestGroupAggSnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rows := genRows(rng, 2000, 30)
	straight := &sink{}
	runRows(t, []*GroupAgg{newOp(t, state.Limits{})}, rows, straight)
	for _, cut := range []int{0, 1, 700, 1999} {
		a := newOp(t, state.Limits{})
		out := &sink{}
		runRows(t, []*GroupAgg{a}, rows[:cut], out)
		snap, err := a.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		twin := newOp(t, state.Limits{})
		runRows(t, []*GroupAgg{twin}, rows[:cut], &sink{})
		if s2, _ := twin.Snapshot(); !bytes.Equal(snap, s2) {
			t.Errorf("cut %d: snapshots differ", cut)
		}
		b := newOp(t, state.Limits{})
		if err := b.Restore(snap); err != nil {
			t.Fatal(err)
		}
		runRows(t, []*GroupAgg{b}, rows[cut:], out)
		for i := range straight.rows {
			if line(out.rows[i]) != line(straight.rows[i]) || out.ids[i] != straight.ids[i] {
				t.Fatalf("cut %d row %d: %s, straight %s", cut, i, line(out.rows[i]), line(straight.rows[i]))
			}
		}
	}
}

func TestGroupAggLimits(t *testing.T) {
	g := newOp(t, state.Limits{MaxKeys: 2, TTL: 100})
	out := &sink{}
	row := func(k string, ts int64) udf.Row { return udf.Row{udf.Str(k), udf.Time(ts), udf.Float(1), udf.Int(1)} }
	runRows(t, []*GroupAgg{g}, []udf.Row{row("a", 0), row("b", 10), row("c", 20), row("a", 30)}, out)
	if len(out.dead) != 1 || out.class[0] != executor.ClassStateLimit || out.dead[0][0].S != "c" {
		t.Fatalf("dead %v %v", out.class, out.dead)
	}
	if out.rows[2][1].I != 2 {
		t.Fatalf("a's count %v", out.rows[2])
	}
	// b (last 10) expires at watermark 110, a (last 30) at 130.
	g.OnWatermark(115, out)
	if g.Keys() != 1 {
		t.Fatalf("%d keys after TTL of b", g.Keys())
	}
	runRows(t, []*GroupAgg{g}, []udf.Row{row("c", 120), row("a", 125)}, out)
	if len(out.dead) != 1 {
		t.Fatalf("c refused after b expired: %v", out.class)
	}
	g.OnWatermark(230, out) // a (last 125) expires
	runRows(t, []*GroupAgg{g}, []udf.Row{row("a", 240)}, out)
	last := out.rows[len(out.rows)-1]
	if last[1].I != 1 {
		t.Fatalf("a after TTL: %v, want a fresh count 1", last)
	}
	if out.ids[len(out.ids)-1] == out.ids[0] {
		t.Fatal("a fresh key life reused the first id")
	}
}

func BenchmarkGroupAgg(b *testing.B) {
	g := newOp(b, state.Limits{})
	rows := genRows(rand.New(rand.NewPCG(1, 1)), 256, 1000)
	batch := &executor.Batch{Rows: rows, IDs: make([]uint64, len(rows))}
	out := &countSink{}
	b.ReportAllocs()
	for i := 0; i < b.N; i += len(rows) {
		g.Process(0, batch, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}

type countSink struct{ n int }

func (s *countSink) Emit(udf.Row, uint64)                               { s.n++ }
func (s *countSink) DeadLetter(executor.Class, string, udf.Row, []byte) {}

// TestGroupAggArrivalOrder: without an event-time column, FIRST_VALUE and
// LAST_VALUE follow arrival order.
func TestGroupAggArrivalOrder(t *testing.T) {
	noTime := inSchema
	noTime.EventTime = -1
	node := &planner.Node{ID: 1, Stage: "s", Op: &planner.GroupAggOp{
		Keys: []planner.Expr{col(0)},
		Aggs: []planner.AggCall{agg("FIRST_VALUE", 3, false, udf.TypeBigint), agg("LAST_VALUE", 3, false, udf.TypeBigint)},
	}}
	op, err := New(node, []planner.Schema{noTime}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &sink{}
	b := &executor.Batch{}
	for i, ts := range []int64{30, 10, 20} { // event times are ignored
		b.Append(udf.Row{udf.Str("a"), udf.Time(ts), udf.Null, udf.Int(int64(i))}, uint64(i))
	}
	if err := op.Process(0, b, out); err != nil {
		t.Fatal(err)
	}
	last := out.rows[len(out.rows)-1]
	if last[1].I != 0 || last[2].I != 2 {
		t.Errorf("FIRST/LAST by arrival = %v, %v; want 0, 2", last[1], last[2])
	}
}
