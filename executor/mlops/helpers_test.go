package mlops

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/udf"
)

// dataDir is the shared data sets, relative to this package.
const dataDir = "../../../shared/data"

// collect is an executor.Collector that keeps what an operator emits.
type collect struct {
	rows  []udf.Row
	ids   []uint64
	dead  []udf.Row
	class []executor.Class
}

func (c *collect) Emit(r udf.Row, id uint64) { c.rows = append(c.rows, r); c.ids = append(c.ids, id) }
func (c *collect) DeadLetter(cl executor.Class, _ string, r udf.Row, _ []byte) {
	c.dead = append(c.dead, r)
	c.class = append(c.class, cl)
}

// schema builds a schema of name/type pairs; et names the event-time
// column ("" for none).
func schema(et string, cols ...any) planner.Schema {
	s := planner.Schema{EventTime: -1}
	for i := 0; i < len(cols); i += 2 {
		n := cols[i].(string)
		s.Columns = append(s.Columns, planner.Column{Name: n, Type: cols[i+1].(udf.Type), Nullable: true})
		if n == et {
			s.EventTime = len(s.Columns) - 1
		}
	}
	return s
}

// run feeds rows to op in batches of 100 and closes it.
func run(t testing.TB, op executor.Operator, rows []udf.Row) *collect {
	t.Helper()
	c := &collect{}
	for i := 0; i < len(rows); i += 100 {
		b := &executor.Batch{}
		for j := i; j < min(i+100, len(rows)); j++ {
			b.Append(rows[j], uint64(j))
		}
		if err := op.Process(0, b, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := op.OnWatermark(executor.MaxWatermark, c); err != nil {
		t.Fatal(err)
	}
	if err := op.Close(c); err != nil {
		t.Fatal(err)
	}
	return c
}

// lines returns the lines of a gzipped data file (skipping the test when
// the data set is absent).
func lines(t testing.TB, rel string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, rel))
	if os.IsNotExist(err) {
		t.Skipf("data set %s not present", rel)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(z)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
