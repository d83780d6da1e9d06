package pathbench

import (
	"fmt"
	"strconv"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/state"
	"github.com/flowrun/flowrun/executor/window"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// Path is the executor's hot path on one goroutine:
//
//	{"user":"user-000123","ts":1700000000123,"amount":12.5,"merchant":"m7","n":3}
//	→ decode (user, ts, amount) → TUMBLE(ts, 1 minute) GROUP BY user
//	  COUNT(*), SUM(amount), AVG(amount), MAX(amount) → a counting sink
//
// Rows are decoded into a reused batch (the operator keeps no input row);
// a watermark follows every batch of 256 records.
type Path struct {
	dec   *jetstream.Decoder
	op    executor.Operator
	recs  [][]byte
	batch *executor.Batch
	out   *countSink
	done  int
	epoch int64 // event time keeps increasing across passes over recs
}

type countSink struct{ rows, dead int }

func (s *countSink) Emit(udf.Row, uint64)                               { s.rows++ }
func (s *countSink) DeadLetter(executor.Class, string, udf.Row, []byte) { s.dead++ }

// BatchSize is the number of records per batch of Run.
const BatchSize = 256

// New sets the path up over 64 Ki pre-encoded records of nkeys users, 1 ms
// apart in event time.
func New(nkeys int) (*Path, error) {
	src := &planner.SourceOp{Source: "tx", Format: "json", Decl: []spec.Column{
		{Name: "user", Type: udf.TypeString},
		{Name: "ts", Type: udf.TypeTimestamp},
		{Name: "amount", Type: udf.TypeDouble},
		{Name: "merchant", Type: udf.TypeString},
		{Name: "n", Type: udf.TypeBigint},
	}, Columns: []int{0, 1, 2}}
	dec, err := jetstream.NewDecoder(src, 0)
	if err != nil {
		return nil, err
	}
	agg := func(name string, arg int, t udf.Type) planner.AggCall {
		f, _ := udf.LookupAggregate(name)
		c := planner.AggCall{Func: f, T: t}
		if arg >= 0 {
			c.Args = []planner.Expr{&planner.ColumnRef{Index: arg, T: udf.TypeDouble}}
		}
		return c
	}
	op, err := window.NewWindowAgg(&planner.WindowAggOp{
		Window: planner.Window{Kind: planner.Tumble, TimeCol: 1, Size: 60000},
		Keys:   []planner.Expr{&planner.ColumnRef{Index: 0, Name: "user", T: udf.TypeString}},
		Aggs: []planner.AggCall{agg("COUNT", -1, udf.TypeBigint), agg("SUM", 2, udf.TypeDouble),
			agg("AVG", 2, udf.TypeDouble), agg("MAX", 2, udf.TypeDouble)},
	}, state.Limits{}, nil)
	if err != nil {
		return nil, err
	}
	const nrec = 1 << 16
	recs := make([][]byte, nrec)
	for i := range recs {
		recs[i] = []byte(`{"user":"user-` + fmt.Sprintf("%06d", (i*7919)%nkeys) + `","ts":` +
			strconv.Itoa(1700000000000+i) + `,"amount":` + strconv.FormatFloat(float64(i%1000)/4, 'f', -1, 64) +
			`,"merchant":"m` + strconv.Itoa(i%13) + `","n":` + strconv.Itoa(i%7) + `}`)
	}
	batch := &executor.Batch{Rows: make([]udf.Row, BatchSize), IDs: make([]uint64, BatchSize)}
	slab := make([]udf.Value, BatchSize*dec.Width())
	for j := range batch.Rows {
		batch.Rows[j] = slab[j*dec.Width() : (j+1)*dec.Width() : (j+1)*dec.Width()]
	}
	return &Path{dec: dec, op: op, recs: recs, batch: batch, out: &countSink{}}, nil
}

// Run pushes n records (rounded up to whole batches) through the path and
// returns the bytes decoded.
func (p *Path) Run(n int) (int64, error) {
	var bytes int64
	nrec := len(p.recs)
	for end := p.done + n; p.done < end; p.done += BatchSize {
		b := p.batch
		b.Rows = b.Rows[:BatchSize]
		var maxTS int64
		for j := range BatchSize {
			k := (p.done + j) % nrec
			if k == 0 && p.done+j > 0 {
				p.epoch += int64(nrec)
			}
			r := p.recs[k]
			bytes += int64(len(r))
			if derr := p.dec.Decode(r, b.Rows[j]); derr != nil {
				return bytes, derr
			}
			b.Rows[j][1].I += p.epoch
			maxTS = b.Rows[j][1].I
			b.IDs[j] = uint64(p.done + j)
		}
		if err := p.op.Process(0, b, p.out); err != nil {
			return bytes, err
		}
		if err := p.op.OnWatermark(maxTS-1000, p.out); err != nil {
			return bytes, err
		}
	}
	return bytes, nil
}

// Emitted returns the window results the path's sink received.
func (p *Path) Emitted() int { return p.out.rows }
