package window

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

func newNode(t testing.TB, w planner.Window, lim state.Limits) *planner.Node {
	t.Helper()
	return &planner.Node{
		ID: 1, Stage: "agg",
		Op: &planner.WindowAggOp{
			Window: w,
			Keys:   []planner.Expr{col(colK)},
			Aggs:   aggCalls(t),
		},
		State: []planner.State{{Name: "windows", MaxKeys: lim.MaxKeys}},
	}
}

func newOps(t testing.TB, w planner.Window, n int) []executor.Operator {
	t.Helper()
	ops := make([]executor.Operator, n)
	for i := range ops {
		op, err := New(newNode(t, w, state.Limits{}), []planner.Schema{inSchema}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ops[i] = op
	}
	return ops
}

var windows = []struct {
	name string
	w    planner.Window
}{
	{"tumble", planner.Window{Kind: planner.Tumble, TimeCol: colTS, Size: 1000}},
	{"hop", planner.Window{Kind: planner.Hop, TimeCol: colTS, Size: 3000, Slide: 1000}},
	{"hop-uneven", planner.Window{Kind: planner.Hop, TimeCol: colTS, Size: 2500, Slide: 1000}},
	{"hop-gapped", planner.Window{Kind: planner.Hop, TimeCol: colTS, Size: 500, Slide: 1000}},
	{"session", planner.Window{Kind: planner.Session, TimeCol: colTS, Gap: 150}},
}

// windowsOf returns the [start, end) windows holding ts that are still
// open at watermark wm (tumble and hop).
func windowsOf(w planner.Window, ts, wm int64) [][2]int64 {
	slide := w.Slide
	if w.Kind == planner.Tumble {
		slide = w.Size
	}
	var out [][2]int64
	for s := floorDiv(ts, slide) * slide; s > ts-w.Size; s -= slide {
		if s+w.Size > wm {
			out = append(out, [2]int64{s, s + w.Size})
		}
	}
	return out
}

// expect computes the oracle output (by "key|start|end") and the late rows
// of a script. For sessions, late is decided by the operator's dead
// letters (checked to be rows behind the watermark) and sessions are built
// over the accepted rows.
func expect(t *testing.T, w planner.Window, steps []step, got *sink) (map[string][]udf.Value, []string) {
	groups := map[string][]udf.Row{}
	var late []string
	wm := executor.MinWatermark
	deadSet := map[string]bool{}
	for _, r := range got.dead {
		deadSet[rowString(r)] = true
	}
	var accepted []udf.Row
	for _, st := range steps {
		for _, r := range st.rows {
			ts := r[colTS].I
			if w.Kind == planner.Session {
				if deadSet[rowString(r)] {
					if ts >= wm {
						t.Errorf("row %s dead-lettered at watermark %d but not behind it", rowString(r), wm)
					}
					late = append(late, rowString(r))
				} else {
					accepted = append(accepted, r)
				}
				continue
			}
			ws := windowsOf(w, ts, wm)
			if len(ws) == 0 && len(windowsOf(w, ts, executor.MinWatermark)) > 0 {
				late = append(late, rowString(r))
			}
			for _, win := range ws {
				k := fmt.Sprintf("%s|%d|%d", r[colK], win[0], win[1])
				groups[k] = append(groups[k], r)
			}
		}
		if st.wm != executor.MinWatermark {
			wm = st.wm
		}
	}
	if w.Kind == planner.Session {
		byKey := map[string][]udf.Row{}
		for _, r := range accepted {
			byKey[r[colK].String()] = append(byKey[r[colK].String()], r)
		}
		for k, rs := range byKey {
			slices.SortFunc(rs, func(a, b udf.Row) int { return int(a[colTS].I - b[colTS].I) })
			var cur []udf.Row
			flush := func() {
				if len(cur) > 0 {
					key := fmt.Sprintf("%s|%d|%d", k, cur[0][colTS].I, cur[len(cur)-1][colTS].I+w.Gap)
					groups[key] = cur
				}
				cur = nil
			}
			for _, r := range rs {
				if len(cur) > 0 && r[colTS].I-cur[len(cur)-1][colTS].I >= w.Gap {
					flush()
				}
				cur = append(cur, r)
			}
			flush()
		}
	}
	want := map[string][]udf.Value{}
	for k, rs := range groups {
		want[k] = oracle(rs)
	}
	slices.Sort(late)
	return want, late
}

func checkAgainstOracle(t *testing.T, w planner.Window, steps []step, got *sink) {
	t.Helper()
	want, late := expect(t, w, steps, got)
	seen := map[string]bool{}
	for _, r := range got.rows {
		k := outputKey(r)
		if seen[k] {
			t.Errorf("window %s emitted twice", k)
			continue
		}
		seen[k] = true
		exp, ok := want[k]
		if !ok {
			t.Errorf("unexpected window %s: %s", k, rowString(r))
			continue
		}
		for i := range testAggs {
			if !sameValue(i, r[3+i], exp[i]) {
				d := testAggs[i]
				t.Errorf("window %s: %s(%v) = %v, oracle %v", k, d.name, d.arg, r[3+i], exp[i])
			}
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("window %s not emitted", k)
		}
	}
	var dead []string
	for i, r := range got.dead {
		if got.class[i] != executor.ClassLate {
			t.Errorf("dead letter of class %s: %s", got.class[i], rowString(r))
		}
		dead = append(dead, rowString(r))
	}
	slices.Sort(dead)
	if !slices.Equal(dead, late) {
		t.Errorf("dead-lettered %d rows, want %d late rows", len(dead), len(late))
	}
}

func TestWindowAggOracle(t *testing.T) {
	for _, wc := range windows {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", wc.name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				rows := genRows(rng, 3000, 60000, 700, 6)
				steps := script(rng, rows, 900)
				one := run(t, newOps(t, wc.w, 1), steps)
				checkAgainstOracle(t, wc.w, steps, one)
				if len(one.dead) == 0 {
					t.Errorf("no late rows: the script does not exercise lateness")
				}
				// A single task emits in order of window end, then key.
				for i := 1; i < len(one.rows); i++ {
					a, b := one.rows[i-1], one.rows[i]
					ka, kb := string(state.AppendKey(nil, a[0])), string(state.AppendKey(nil, b[0]))
					if a[2].I > b[2].I || (a[2].I == b[2].I && ka >= kb) {
						t.Fatalf("output %d (%s) after (%s): not ordered by end, key", i, rowString(b), rowString(a))
					}
				}
				// Four tasks partitioned by key hash: the same multiset.
				four := run(t, newOps(t, wc.w, 4), steps)
				if a, b := multiset(one), multiset(four); !slices.Equal(a, b) {
					t.Errorf("1 task: %d rows, 4 tasks: %d rows; multisets differ", len(a), len(b))
				}
				if a, b := len(one.dead), len(four.dead); a != b {
					t.Errorf("dead letters: 1 task %d, 4 tasks %d", a, b)
				}
				ids := map[uint64]bool{}
				for _, id := range one.ids {
					if ids[id] {
						t.Fatalf("duplicate id %x", id)
					}
					ids[id] = true
				}
			})
		}
	}
}

// TestWindowAggSnapshot checks that snapshot → restore → continue gives the
// same output sequence as an uninterrupted run, at several cut points.
func TestWindowAggSnapshot(t *testing.T) {
	for _, wc := range windows {
		t.Run(wc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, 1))
			rows := genRows(rng, 1500, 30000, 500, 5)
			steps := script(rng, rows, 600)
			straight := run(t, newOps(t, wc.w, 1), steps)
			for _, cut := range []int{0, len(steps) / 3, len(steps) / 2, len(steps) - 2} {
				ops := newOps(t, wc.w, 1)
				first := run(t, ops, steps[:cut])
				snap, err := ops[0].Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				// Deterministic: an identical history gives identical bytes.
				twin := newOps(t, wc.w, 1)
				run(t, twin, steps[:cut])
				snap2, _ := twin[0].Snapshot()
				if !bytes.Equal(snap, snap2) {
					t.Errorf("cut %d: snapshots of identical runs differ", cut)
				}
				restored := newOps(t, wc.w, 1)
				if err := restored[0].Restore(snap); err != nil {
					t.Fatal(err)
				}
				second := run(t, restored, steps[cut:])
				gotRows := append(append([]udf.Row{}, first.rows...), second.rows...)
				gotIDs := append(append([]uint64{}, first.ids...), second.ids...)
				if len(gotRows) != len(straight.rows) {
					t.Fatalf("cut %d: %d rows, straight run %d", cut, len(gotRows), len(straight.rows))
				}
				for i := range gotRows {
					if rowString(gotRows[i]) != rowString(straight.rows[i]) || gotIDs[i] != straight.ids[i] {
						t.Fatalf("cut %d: row %d = %s (%x), straight %s (%x)", cut, i,
							rowString(gotRows[i]), gotIDs[i], rowString(straight.rows[i]), straight.ids[i])
					}
				}
				if len(first.dead)+len(second.dead) != len(straight.dead) {
					t.Errorf("cut %d: dead letters differ", cut)
				}
			}
			if err := newOps(t, wc.w, 1)[0].Restore([]byte("garbage")); err == nil {
				t.Error("Restore of garbage succeeded")
			}
		})
	}
}

func TestWindowAggStateLimit(t *testing.T) {
	w := planner.Window{Kind: planner.Tumble, TimeCol: colTS, Size: 1000}
	op, err := New(newNode(t, w, state.Limits{MaxKeys: 2}), []planner.Schema{inSchema}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &sink{}
	b := &executor.Batch{}
	for i, k := range []string{"a", "b", "c", "a", "c"} {
		b.Append(udf.Row{udf.Str(k), udf.Time(int64(i)), udf.Float(1), udf.Int(1)}, uint64(i))
	}
	if err := op.Process(0, b, out); err != nil {
		t.Fatal(err)
	}
	if len(out.dead) != 2 || out.class[0] != executor.ClassStateLimit || out.dead[0][0].S != "c" {
		t.Fatalf("dead letters %v %v, want the two rows of c with class state-limit", out.class, out.dead)
	}
	// Firing the windows frees the keys one window later.
	if err := op.OnWatermark(2000, out); err != nil {
		t.Fatal(err)
	}
	b = &executor.Batch{}
	b.Append(udf.Row{udf.Str("c"), udf.Time(2500), udf.Float(1), udf.Int(1)}, 9)
	if err := op.Process(0, b, out); err != nil {
		t.Fatal(err)
	}
	if len(out.dead) != 2 || len(out.rows) != 2 {
		t.Fatalf("after firing: %d dead, %d rows", len(out.dead), len(out.rows))
	}
}

func TestWindowAggNullTimeAndExprError(t *testing.T) {
	w := planner.Window{Kind: planner.Tumble, TimeCol: colTS, Size: 1000}
	node := newNode(t, w, state.Limits{})
	// Key: 10 / y is never an error (division by zero is NULL); use a
	// bigint overflow instead.
	node.Op.(*planner.WindowAggOp).Keys = []planner.Expr{&planner.BinaryOp{Op: "*", L: col(colY),
		R: &planner.Literal{Value: udf.Int(1 << 62)}, T: udf.TypeBigint}}
	op, err := New(node, []planner.Schema{inSchema}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &sink{}
	b := &executor.Batch{}
	b.Append(udf.Row{udf.Str("a"), udf.Null, udf.Float(1), udf.Int(1)}, 1)
	b.Append(udf.Row{udf.Str("a"), udf.Time(5), udf.Float(1), udf.Int(4)}, 2)
	b.Append(udf.Row{udf.Str("a"), udf.Time(5), udf.Float(1), udf.Int(1)}, 3)
	if err := op.Process(0, b, out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.class, []executor.Class{executor.ClassType, executor.ClassExpr}) {
		t.Fatalf("classes %v", out.class)
	}
	op.OnWatermark(executor.MaxWatermark, out)
	if len(out.rows) != 1 || !strings.Contains(rowString(out.rows[0]), "4611686018427387904") {
		t.Fatalf("rows %v", out.rows)
	}
}

// TestWindowAggExprKeys groups by two expressions, LOWER(k) || '!' and
// y % 3 (NULL for NULL y), and checks COUNT(*) against a batch GROUP BY.
func TestWindowAggExprKeys(t *testing.T) {
	lower, ok := udf.Lookup("LOWER")
	if !ok {
		t.Fatal("udf has no LOWER")
	}
	count, _ := udf.LookupAggregate("COUNT")
	op, err := NewWindowAgg(&planner.WindowAggOp{
		Window: planner.Window{Kind: planner.Tumble, TimeCol: colTS, Size: 2000},
		Keys: []planner.Expr{
			&planner.BinaryOp{Op: "||", T: udf.TypeString,
				L: &planner.Call{Func: lower, Args: []planner.Expr{col(colK)}, T: udf.TypeString},
				R: &planner.Literal{Value: udf.Str("!")}},
			&planner.BinaryOp{Op: "%", L: col(colY), R: &planner.Literal{Value: udf.Int(3)}, T: udf.TypeBigint},
		},
		Aggs: []planner.AggCall{{Func: count, T: udf.TypeBigint}},
	}, state.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	rows := genRows(rng, 2000, 40000, 0, 4)
	out := run(t, []executor.Operator{op}, []step{{rows: rows, wm: executor.MinWatermark}, {wm: executor.MaxWatermark}})
	want := map[string]int64{}
	for _, r := range rows {
		k := udf.Null
		if r[colK].K != udf.TypeNull {
			k = udf.Str(strings.ToLower(r[colK].S) + "!")
		}
		m := udf.Null
		if r[colY].K != udf.TypeNull {
			m = udf.Int(r[colY].I % 3)
		}
		start := r[colTS].I / 2000 * 2000
		want[fmt.Sprintf("%s|%s|%d", k, m, start)]++
	}
	if len(out.rows) != len(want) {
		t.Fatalf("%d windows, want %d", len(out.rows), len(want))
	}
	for _, r := range out.rows {
		k := fmt.Sprintf("%s|%s|%d", r[0], r[1], r[2].I)
		if r[4].I != want[k] {
			t.Errorf("%s: count %d, want %d", k, r[4].I, want[k])
		}
	}
}

// TestWindowAggRestoreCorrupt: every truncation and many bit flips of a
// snapshot are rejected or restored without a panic.
func TestWindowAggRestoreCorrupt(t *testing.T) {
	w := windows[4].w // session: the richest state
	rng := rand.New(rand.NewPCG(4, 4))
	rows := genRows(rng, 300, 5000, 100, 3)
	ops := newOps(t, w, 1)
	steps := script(rng, rows, 100)
	run(t, ops, steps[:len(steps)/2])
	snap, err := ops[0].Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(snap); n++ {
		if err := newOps(t, w, 1)[0].Restore(snap[:n]); err == nil && n > 0 {
			t.Errorf("truncation at %d of %d restored", n, len(snap))
		}
	}
	for i := 0; i < 2000; i++ {
		b := bytes.Clone(snap)
		b[rng.IntN(len(b))] ^= byte(1 << rng.IntN(8))
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Restore panicked on a corrupt snapshot: %v", r)
				}
			}()
			newOps(t, w, 1)[0].Restore(b)
		}()
	}
}

// TestSessionSemantics pins the session rules with a worked example
// (gap 150 ms): rows less than a gap apart share a session, a row
// bridging two sessions merges them, and a row that could touch a fired
// session is late.
func TestSessionSemantics(t *testing.T) {
	count, _ := udf.LookupAggregate("COUNT")
	op, err := NewWindowAgg(&planner.WindowAggOp{
		Window: planner.Window{Kind: planner.Session, TimeCol: colTS, Gap: 150},
		Keys:   []planner.Expr{col(colK)},
		Aggs:   []planner.AggCall{{Func: count, T: udf.TypeBigint}},
	}, state.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &sink{}
	send := func(ts ...int64) {
		b := &executor.Batch{}
		for _, x := range ts {
			b.Append(udf.Row{udf.Str("a"), udf.Time(x), udf.Null, udf.Null}, uint64(x))
		}
		if err := op.Process(0, b, out); err != nil {
			t.Fatal(err)
		}
	}
	send(0, 200) // two sessions: [0,150) and [200,350)
	send(100)    // bridges them: [0,350) with 3 rows
	send(500)    // [500,650)
	op.OnWatermark(400, out)
	send(340) // touches the fired [0,350): late
	send(420) // its own session [420,570) would be open, and it merges with [500,650)
	send(360) // [360,510) bridges nothing fired (350 <= 360) and merges with [420,650)
	op.OnWatermark(executor.MaxWatermark, out)
	var got []string
	for _, r := range out.rows {
		got = append(got, fmt.Sprintf("[%d,%d) n=%d", r[1].I, r[2].I, r[3].I))
	}
	want := []string{"[0,350) n=3", "[360,650) n=3"}
	if !slices.Equal(got, want) {
		t.Errorf("sessions %v, want %v", got, want)
	}
	if len(out.dead) != 1 || out.dead[0][colTS].I != 340 || out.class[0] != executor.ClassLate {
		t.Errorf("dead letters %v", out.dead)
	}
}
