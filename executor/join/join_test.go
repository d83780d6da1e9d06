package join

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
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

// Both inputs: k bigint (NULL sometimes), ts timestamp, v bigint.
func schema(eventTime int) planner.Schema {
	return planner.Schema{Columns: []planner.Column{
		{Name: "k", Type: udf.TypeBigint, Nullable: true},
		{Name: "ts", Type: udf.TypeTimestamp},
		{Name: "v", Type: udf.TypeBigint},
	}, EventTime: eventTime}
}

// event is one input row on a port, with its id.
type event struct {
	port int
	row  udf.Row
	id   uint64
}

// step is a batch of events followed by a watermark (MinWatermark: none).
type step struct {
	events []event
	wm     int64
}

// residual: v_left + v_right is not divisible by 5.
var residual = &planner.BinaryOp{Op: "!=", T: udf.TypeBool,
	L: &planner.BinaryOp{Op: "%", T: udf.TypeBigint,
		L: &planner.BinaryOp{Op: "+", T: udf.TypeBigint,
			L: &planner.ColumnRef{Index: 2, Name: "v", T: udf.TypeBigint},
			R: &planner.ColumnRef{Index: 5, Name: "v", T: udf.TypeBigint}},
		R: &planner.Literal{Value: udf.Int(5)}},
	R: &planner.Literal{Value: udf.Int(0)}}

// genEvents makes n rows per side with event times over span (aligned to
// align ms), shuffled with disorder up to jitter, and cuts them into steps
// with watermarks lagging the max event time by up to maxLag.
func genEvents(rng *rand.Rand, n int, span, align, jitter, maxLag int64, keys int) []step {
	var evs []event
	id := uint64(1)
	for port := range 2 {
		for range n {
			k := udf.Int(int64(rng.IntN(keys)))
			if rng.IntN(25) == 0 {
				k = udf.Null
			}
			ts := rng.Int64N(span) / align * align
			evs = append(evs, event{port, udf.Row{k, udf.Time(ts), udf.Int(int64(rng.IntN(100)))}, id})
			id++
		}
	}
	order := make([]int64, len(evs))
	for i, e := range evs {
		order[i] = e.row[1].I + rng.Int64N(jitter+1)
	}
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return order[idx[a]] < order[idx[b]] })
	var steps []step
	maxTS, wm := int64(-1<<62), executor.MinWatermark
	for i := 0; i < len(idx); {
		m := min(1+rng.IntN(30), len(idx)-i)
		st := step{wm: executor.MinWatermark}
		for _, x := range idx[i : i+m] {
			st.events = append(st.events, evs[x])
			maxTS = max(maxTS, evs[x].row[1].I)
		}
		i += m
		if rng.IntN(2) == 0 {
			if w := maxTS - rng.Int64N(maxLag+1); w > wm {
				wm, st.wm = w, w
			}
		}
		steps = append(steps, st)
	}
	return append(steps, step{wm: executor.MaxWatermark})
}

func newJoin(t testing.TB, op *planner.JoinOp, rtime int) *Join {
	t.Helper()
	o, err := New(&planner.Node{ID: 7, Stage: "j", Op: op}, []planner.Schema{schema(1), schema(rtime)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.(*Join)
}

// play runs steps through ops, partitioning each side by its key hash.
func play(t testing.TB, ops []*Join, steps []step, out *sink) {
	for _, st := range steps {
		for _, ev := range st.events {
			p := state.Hash(state.AppendKey(nil, ev.row[0])) % uint64(len(ops))
			b := &executor.Batch{}
			b.Append(ev.row, ev.id)
			if err := ops[p].Process(ev.port, b, out); err != nil {
				t.Fatal(err)
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
}

// accepted splits events into on-time rows per side (ts >= watermark at
// arrival) and late ones.
func accepted(steps []step) (left, right []event, late int) {
	wm := executor.MinWatermark
	for _, st := range steps {
		for _, ev := range st.events {
			if ev.row[1].I < wm {
				late++
				continue
			}
			if ev.port == 0 {
				left = append(left, ev)
			} else {
				right = append(right, ev)
			}
		}
		if st.wm != executor.MinWatermark {
			wm = st.wm
		}
	}
	return
}

func line(r udf.Row, id uint64) string {
	s := fmt.Sprintf("%016x", id)
	for _, v := range r {
		s += " " + v.String()
	}
	return s
}

func lines(s *sink) []string {
	out := make([]string, len(s.rows))
	for i, r := range s.rows {
		out[i] = line(r, s.ids[i])
	}
	slices.Sort(out)
	return out
}

func resid(l, r udf.Row) bool { return (l[2].I+r[2].I)%5 != 0 }

func concat(l, r udf.Row) udf.Row {
	if r == nil {
		r = udf.Row{udf.Null, udf.Null, udf.Null}
	}
	return append(slices.Clone(l), r...)
}

// nestedLoop is the oracle of interval and window joins.
func nestedLoop(left, right []event, lower, upper int64, isLeft bool) []string {
	var out []string
	for _, l := range left {
		matched := false
		for _, r := range right {
			if l.row[0].K == udf.TypeNull || r.row[0].K == udf.TypeNull || l.row[0].I != r.row[0].I {
				continue
			}
			if d := r.row[1].I - l.row[1].I; d < lower || d > upper || !resid(l.row, r.row) {
				continue
			}
			matched = true
			out = append(out, line(concat(l.row, r.row), state.Mix(l.id, r.id)))
		}
		if !matched && isLeft {
			out = append(out, line(concat(l.row, nil), state.Mix(l.id, 0)))
		}
	}
	slices.Sort(out)
	return out
}

func compare(t *testing.T, got *sink, want []string, late int) {
	t.Helper()
	g := lines(got)
	if !slices.Equal(g, want) {
		t.Errorf("got %d rows, oracle %d", len(g), len(want))
		for i := 0; i < len(g) || i < len(want); i++ {
			var a, b string
			if i < len(g) {
				a = g[i]
			}
			if i < len(want) {
				b = want[i]
			}
			if a != b {
				t.Errorf("first difference at %d:\n got  %s\n want %s", i, a, b)
				break
			}
		}
	}
	if len(got.dead) != late {
		t.Errorf("%d dead letters, want %d late rows", len(got.dead), late)
	}
	for _, c := range got.class {
		if c != executor.ClassLate {
			t.Errorf("dead letter of class %s", c)
		}
	}
}

func TestStreamJoinsOracle(t *testing.T) {
	cases := []struct {
		name         string
		op           planner.JoinOp
		align        int64
		lower, upper int64
	}{
		{"interval", planner.JoinOp{Kind: planner.IntervalJoin, LeftKeys: []int{0}, RightKeys: []int{0}, Lower: -300, Upper: 500, Residual: residual}, 1, -300, 500},
		{"interval-after", planner.JoinOp{Kind: planner.IntervalJoin, LeftKeys: []int{0}, RightKeys: []int{0}, Lower: 100, Upper: 400}, 1, 100, 400},
		{"window", planner.JoinOp{Kind: planner.WindowJoin, LeftKeys: []int{0}, RightKeys: []int{0},
			Window: planner.Window{Kind: planner.Tumble, TimeCol: 1, Size: 1000}, Residual: residual}, 1000, 0, 0},
	}
	for _, c := range cases {
		for _, isLeft := range []bool{false, true} {
			for seed := uint64(1); seed <= 2; seed++ {
				t.Run(fmt.Sprintf("%s/left=%v/seed%d", c.name, isLeft, seed), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(seed, 11))
					steps := genEvents(rng, 600, 30000, c.align, 600, 700, 12)
					op := c.op
					op.Left = isLeft
					l, r, late := accepted(steps)
					want := nestedLoop(l, r, c.lower, c.upper, isLeft)
					if c.op.Residual == nil {
						// no residual in the op: the oracle must not filter
						want = nestedLoopNoResid(l, r, c.lower, c.upper, isLeft)
					}
					one := &sink{}
					play(t, []*Join{newJoin(t, &op, 1)}, steps, one)
					compare(t, one, want, late)
					four := &sink{}
					ops := []*Join{newJoin(t, &op, 1), newJoin(t, &op, 1), newJoin(t, &op, 1), newJoin(t, &op, 1)}
					play(t, ops, steps, four)
					compare(t, four, want, late)
					if late == 0 && c.align == 1 {
						t.Error("no late rows: lateness not exercised")
					}
				})
			}
		}
	}
}

func nestedLoopNoResid(left, right []event, lower, upper int64, isLeft bool) []string {
	var out []string
	for _, l := range left {
		matched := false
		for _, r := range right {
			if l.row[0].K == udf.TypeNull || r.row[0].K == udf.TypeNull || l.row[0].I != r.row[0].I {
				continue
			}
			if d := r.row[1].I - l.row[1].I; d < lower || d > upper {
				continue
			}
			matched = true
			out = append(out, line(concat(l.row, r.row), state.Mix(l.id, r.id)))
		}
		if !matched && isLeft {
			out = append(out, line(concat(l.row, nil), state.Mix(l.id, 0)))
		}
	}
	slices.Sort(out)
	return out
}

// tableOracle: each on-time left row joins the on-time version of its key
// with the greatest event time <= its own (ties: the later arrival).
func tableOracle(left, right []event, isLeft bool) []string {
	var out []string
	for _, l := range left {
		var best *event
		for i := range right {
			r := &right[i]
			if l.row[0].K == udf.TypeNull || r.row[0].K == udf.TypeNull || l.row[0].I != r.row[0].I || r.row[1].I > l.row[1].I {
				continue
			}
			if best == nil || r.row[1].I >= best.row[1].I {
				best = r
			}
		}
		if best != nil && resid(l.row, best.row) {
			out = append(out, line(concat(l.row, best.row), state.Mix(l.id, best.id)))
		} else if isLeft {
			out = append(out, line(concat(l.row, nil), state.Mix(l.id, 0)))
		}
	}
	slices.Sort(out)
	return out
}

func TestTableJoinOracle(t *testing.T) {
	for _, isLeft := range []bool{false, true} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("left=%v/seed%d", isLeft, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 13))
				steps := genEvents(rng, 800, 30000, 1, 500, 600, 15)
				op := &planner.JoinOp{Kind: planner.TableJoin, Left: isLeft, LeftKeys: []int{0}, RightKeys: []int{0}, Residual: residual}
				l, r, late := accepted(steps)
				want := tableOracle(l, r, isLeft)
				one := &sink{}
				play(t, []*Join{newJoin(t, op, 1)}, steps, one)
				compare(t, one, want, late)
				four := &sink{}
				play(t, []*Join{newJoin(t, op, 1), newJoin(t, op, 1), newJoin(t, op, 1), newJoin(t, op, 1)}, steps, four)
				compare(t, four, want, late)
			})
		}
	}
}

// TestTableJoinArrivalOrder: a table without event time joins the latest
// version by arrival, at once.
func TestTableJoinArrivalOrder(t *testing.T) {
	op := &planner.JoinOp{Kind: planner.TableJoin, Left: true, LeftKeys: []int{0}, RightKeys: []int{0}}
	j := newJoin(t, op, -1)
	out := &sink{}
	row := func(k, ts, v int64) udf.Row { return udf.Row{udf.Int(k), udf.Time(ts), udf.Int(v)} }
	send := func(port int, r udf.Row, id uint64) {
		b := &executor.Batch{}
		b.Append(r, id)
		if err := j.Process(port, b, out); err != nil {
			t.Fatal(err)
		}
	}
	send(0, row(1, 10, 0), 1) // no version yet: NULLs
	send(1, row(1, 99, 7), 2)
	send(0, row(1, 5, 0), 3) // joins v=7 although older in event time
	send(1, row(1, 1, 8), 4)
	send(0, row(1, 50, 0), 5) // joins v=8, the latest arrival
	got := []string{}
	for i, r := range out.rows {
		got = append(got, line(r, out.ids[i]))
	}
	want := []string{
		line(concat(row(1, 10, 0), nil), state.Mix(1, 0)),
		line(concat(row(1, 5, 0), row(1, 99, 7)), state.Mix(3, 2)),
		line(concat(row(1, 50, 0), row(1, 1, 8)), state.Mix(5, 4)),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestJoinSnapshot(t *testing.T) {
	ops := []*planner.JoinOp{
		{Kind: planner.IntervalJoin, Left: true, LeftKeys: []int{0}, RightKeys: []int{0}, Lower: -200, Upper: 300, Residual: residual},
		{Kind: planner.TableJoin, Left: true, LeftKeys: []int{0}, RightKeys: []int{0}},
	}
	for _, op := range ops {
		t.Run(fmt.Sprint(op.Kind), func(t *testing.T) {
			steps := genEvents(rand.New(rand.NewPCG(9, 9)), 500, 20000, 1, 400, 500, 10)
			straight := &sink{}
			play(t, []*Join{newJoin(t, op, 1)}, steps, straight)
			for _, cut := range []int{0, len(steps) / 3, len(steps) - 2} {
				a := newJoin(t, op, 1)
				out := &sink{}
				play(t, []*Join{a}, steps[:cut], out)
				snap, err := a.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				twin := newJoin(t, op, 1)
				play(t, []*Join{twin}, steps[:cut], &sink{})
				if s2, _ := twin.Snapshot(); !bytes.Equal(snap, s2) {
					t.Errorf("cut %d: snapshots differ", cut)
				}
				b := newJoin(t, op, 1)
				if err := b.Restore(snap); err != nil {
					t.Fatal(err)
				}
				play(t, []*Join{b}, steps[cut:], out)
				if len(out.rows) != len(straight.rows) {
					t.Fatalf("cut %d: %d rows, straight %d", cut, len(out.rows), len(straight.rows))
				}
				for i := range out.rows {
					if line(out.rows[i], out.ids[i]) != line(straight.rows[i], straight.ids[i]) {
						t.Fatalf("cut %d: row %d differs", cut, i)
					}
				}
			}
		})
	}
}

func TestJoinStateLimit(t *testing.T) {
	op := &planner.JoinOp{Kind: planner.IntervalJoin, LeftKeys: []int{0}, RightKeys: []int{0}, Lower: 0, Upper: 10}
	o, err := New(&planner.Node{ID: 1, Stage: "j", Op: op, State: []planner.State{{Name: "left", MaxKeys: 1}}},
		[]planner.Schema{schema(1), schema(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &sink{}
	b := &executor.Batch{}
	b.Append(udf.Row{udf.Int(1), udf.Time(0), udf.Int(0)}, 1)
	b.Append(udf.Row{udf.Int(2), udf.Time(0), udf.Int(0)}, 2)
	o.Process(0, b, out)
	if len(out.class) != 1 || out.class[0] != executor.ClassStateLimit {
		t.Fatalf("classes %v", out.class)
	}
}

// TestIntervalJoinReleasesKeys: a key whose rows expired is kept a while
// (recurring keys are cheap) and then released, also across a restore.
func TestIntervalJoinReleasesKeys(t *testing.T) {
	op := &planner.JoinOp{Kind: planner.IntervalJoin, LeftKeys: []int{0}, RightKeys: []int{0}, Lower: 0, Upper: 100}
	j := newJoin(t, op, 1)
	out := &sink{}
	b := &executor.Batch{}
	b.Append(udf.Row{udf.Int(1), udf.Time(0), udf.Int(0)}, 1)
	j.Process(0, b, out)
	j.OnWatermark(200, out) // the row expires (0 + 100 < 200); the key stays
	if j.ls.Len() != 1 {
		t.Fatalf("left keys %d after expiry, want the idle key kept", j.ls.Len())
	}
	snap, _ := j.Snapshot()
	r := newJoin(t, op, 1)
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Join{j, r} {
		x.OnWatermark(200+1000+1, out)
		if x.ls.Len() != 0 {
			t.Errorf("left keys %d after the idle time, want 0", x.ls.Len())
		}
	}
	j2 := newJoin(t, op, 1)
	j2.Process(0, b, out)
	j2.OnWatermark(executor.MaxWatermark, out)
	if j2.ls.Len() != 0 {
		t.Errorf("left keys %d at end of input", j2.ls.Len())
	}
}
