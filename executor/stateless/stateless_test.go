package stateless

import (
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

type sink struct {
	rows  []udf.Row
	ids   []uint64
	class []executor.Class
}

func (s *sink) Emit(r udf.Row, id uint64) { s.rows = append(s.rows, r); s.ids = append(s.ids, id) }
func (s *sink) DeadLetter(c executor.Class, _ string, _ udf.Row, _ []byte) {
	s.class = append(s.class, c)
}

var (
	colA = &planner.ColumnRef{Index: 0, Name: "a", T: udf.TypeBigint}
	colB = &planner.ColumnRef{Index: 1, Name: "b", T: udf.TypeString}
)

func TestChain(t *testing.T) {
	// WHERE a > 1, SELECT a * 10, b, then WHERE #0 < 1000.
	node := &planner.Node{ID: 3, Stage: "s", Op: &planner.ChainOp{Ops: []planner.Op{
		&planner.FilterOp{Pred: &planner.BinaryOp{Op: ">", L: colA, R: &planner.Literal{Value: udf.Int(1)}, T: udf.TypeBool}},
		&planner.ProjectOp{Exprs: []planner.Expr{
			&planner.BinaryOp{Op: "*", L: colA, R: &planner.Literal{Value: udf.Int(1 << 60)}, T: udf.TypeBigint},
			colB,
		}},
		&planner.FilterOp{Pred: &planner.IsNull{X: colB, Not: true}},
	}}}
	op, err := New(node, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &executor.Batch{}
	b.Append(udf.Row{udf.Int(1), udf.Str("x")}, 10)  // filtered
	b.Append(udf.Row{udf.Int(2), udf.Str("y")}, 11)  // kept
	b.Append(udf.Row{udf.Null, udf.Str("z")}, 12)    // NULL predicate: filtered
	b.Append(udf.Row{udf.Int(3), udf.Null}, 13)      // filtered by the last step
	b.Append(udf.Row{udf.Int(99), udf.Str("w")}, 14) // overflow: dead letter
	out := &sink{}
	if err := op.Process(0, b, out); err != nil {
		t.Fatal(err)
	}
	if len(out.rows) != 1 || out.ids[0] != 11 || out.rows[0][0].I != 2<<60 || out.rows[0][1].S != "y" {
		t.Fatalf("rows %v ids %v", out.rows, out.ids)
	}
	if len(out.class) != 1 || out.class[0] != executor.ClassExpr {
		t.Fatalf("dead letters %v", out.class)
	}
	if _, err := New(&planner.Node{Op: &planner.UnionOp{}}, nil, nil); err == nil {
		t.Error("New of a UnionOp succeeded")
	}
}

func BenchmarkProject(b *testing.B) {
	op, _ := NewProject([]planner.Expr{
		&planner.BinaryOp{Op: "+", L: colA, R: &planner.Literal{Value: udf.Int(1)}, T: udf.TypeBigint}, colB,
	}, nil)
	batch := &executor.Batch{}
	for i := range 256 {
		batch.Append(udf.Row{udf.Int(int64(i)), udf.Str("s")}, uint64(i))
	}
	out := &sink{}
	b.ReportAllocs()
	for b.Loop() {
		out.rows, out.ids = out.rows[:0], out.ids[:0]
		op.Process(0, batch, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*256), "ns/row")
}

// An identity projection passes rows on without copying them; a
// projection that reorders, drops or computes still copies.
func TestIdentityProjection(t *testing.T) {
	in := []planner.Schema{{Columns: []planner.Column{{Name: "a", Type: udf.TypeBigint}, {Name: "b", Type: udf.TypeString}}}}
	row := udf.Row{udf.Int(7), udf.Str("x")}
	for _, c := range []struct {
		name  string
		exprs []planner.Expr
		same  bool
	}{
		{"identity", []planner.Expr{colA, colB}, true},
		{"reorder", []planner.Expr{colB, colA}, false},
		{"drop", []planner.Expr{colA}, false},
		{"repeat", []planner.Expr{colA, colB, colA}, false},
	} {
		op, err := New(&planner.Node{Op: &planner.ProjectOp{Exprs: c.exprs}}, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := &sink{}
		b := &executor.Batch{}
		b.Append(row, 1)
		if err := op.Process(0, b, out); err != nil {
			t.Fatal(err)
		}
		if len(out.rows) != 1 || len(out.rows[0]) != len(c.exprs) {
			t.Fatalf("%s: rows %v", c.name, out.rows)
		}
		same := &out.rows[0][0] == &row[0]
		if same != c.same {
			t.Errorf("%s: row passed on uncopied = %v, want %v", c.name, same, c.same)
		}
		for j, e := range c.exprs {
			if got, want := out.rows[0][j], row[e.(*planner.ColumnRef).Index]; got.K != want.K || got.I != want.I || got.S != want.S {
				t.Errorf("%s: column %d = %v, want %v", c.name, j, got, want)
			}
		}
	}
}
