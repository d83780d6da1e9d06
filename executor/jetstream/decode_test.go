package jetstream

import (
	"strings"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

var testDecl = []spec.Column{
	{Name: "id", Type: udf.TypeBigint},
	{Name: "name", Type: udf.TypeString},
	{Name: "amount", Type: udf.TypeDouble},
	{Name: "ok", Type: udf.TypeBool, Nullable: true},
	{Name: "ts", Type: udf.TypeTimestamp},
	{Name: "v", Type: udf.TypeVector, Nullable: true},
}

func testSourceOp(format string) *planner.SourceOp {
	return &planner.SourceOp{Source: "orders", Stream: "ORDERS", Subjects: []string{"orders.>"}, Format: format,
		Decl: testDecl, Columns: []int{0, 1, 2, 3, 4, 5}}
}

func TestDecodeJSON(t *testing.T) {
	const ts = 1704067200000 // 2024-01-01T00:00:00Z
	tests := []struct {
		name  string
		in    string
		want  udf.Row
		class executor.Class
		why   string
	}{
		{"good", `{"id":1,"name":"a","amount":1.5,"ok":true,"ts":"2024-01-01T00:00:00Z","v":[1,2.5]}`,
			udf.Row{udf.Int(1), udf.Str("a"), udf.Float(1.5), udf.Bool(true), udf.Time(ts), udf.Vec([]float64{1, 2.5})}, "", ""},
		{"epoch millis, nulls, extra fields", ` { "extra": {"x":[1,{"y":null}]}, "ts": 1704067200000, "amount": 2, "name": "b\u00e9\n", "id": -7, "ok": null } `,
			udf.Row{udf.Int(-7), udf.Str("bé\n"), udf.Float(2), udf.Null, udf.Time(ts), udf.Null}, "", ""},
		{"integral float into bigint", `{"id":3.0,"name":"","amount":-1e3,"ts":"2024-01-01T01:00:00.5+01:00"}`,
			udf.Row{udf.Int(3), udf.Str(""), udf.Float(-1000), udf.Null, udf.Time(ts + 500), udf.Null}, "", ""},
		{"broken JSON", `{"id":2,"name":"b",`, nil, executor.ClassDecode, "invalid JSON at byte 19: want object key"},
		{"not an object", `[1,2]`, nil, executor.ClassDecode, "invalid JSON at byte 0: want an object"},
		{"trailing data", `{"id":1,"name":"a","amount":1,"ts":1} x`, nil, executor.ClassDecode, "invalid JSON at byte 38: data after the object"},
		{"broken inside skipped field", `{"id":1,"zzz":[1,}`, nil, executor.ClassDecode, "invalid JSON at byte 17: bad number"},
		{"wrong type", `{"id":"x","name":"a","amount":1,"ts":1}`, nil, executor.ClassType, `column "id": want bigint, got string`},
		{"wrong type bool", `{"id":1,"name":"a","amount":1,"ok":"yes","ts":1}`, nil, executor.ClassType, `column "ok": want bool, got string`},
		{"missing", `{"id":1,"amount":1,"ts":1}`, nil, executor.ClassType, `column "name": missing (not nullable)`},
		{"null not nullable", `{"id":1,"name":null,"amount":1,"ts":1}`, nil, executor.ClassType, `column "name": null (not nullable)`},
		{"out of range bigint", `{"id":99999999999999999999,"name":"a","amount":1,"ts":1}`, nil, executor.ClassType, `column "id": 99999999999999999999 out of range for bigint`},
		{"out of range double", `{"id":1,"name":"a","amount":1e400,"ts":1}`, nil, executor.ClassType, `column "amount": 1e400 out of range for double`},
		{"fraction into bigint", `{"id":1.5,"name":"a","amount":1,"ts":1}`, nil, executor.ClassType, `column "id": 1.5 is not an integer`},
		{"bad time", `{"id":1,"name":"a","amount":1,"ts":"yesterday"}`, nil, executor.ClassType, `column "ts": "yesterday" is not an RFC 3339 time`},
		{"invalid UTF-8", "{\"id\":1,\"name\":\"\xff\",\"amount\":1,\"ts\":1}", nil, executor.ClassDecode, "invalid UTF-8"},
		{"oversize", `{"id":1,"name":"` + strings.Repeat("x", 300) + `","amount":1,"ts":1}`, nil, executor.ClassOversize, "record is 336 bytes, more than the limit of 256"},
	}
	d, err := NewDecoder(testSourceOp("json"), 256)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := make(udf.Row, d.Width())
			derr := d.Decode([]byte(tt.in), row)
			if tt.class != "" {
				if derr == nil {
					t.Fatalf("decoded %v, want %s error", row, tt.class)
				}
				if derr.Class != tt.class || derr.Reason != tt.why {
					t.Fatalf("got %s %q, want %s %q", derr.Class, derr.Reason, tt.class, tt.why)
				}
				return
			}
			if derr != nil {
				t.Fatalf("unexpected %v", derr)
			}
			for i := range row {
				if !udf.Equal(row[i], tt.want[i]) {
					t.Errorf("column %d = %v, want %v", i, row[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodeProjection(t *testing.T) {
	op := testSourceOp("json")
	op.Columns = []int{4, 0} // ts, id
	d, err := NewDecoder(op, 0)
	if err != nil {
		t.Fatal(err)
	}
	row := make(udf.Row, 2)
	// name is missing and amount has the wrong type: not decoded, not checked.
	if derr := d.Decode([]byte(`{"id":5,"amount":"x","ts":10}`), row); derr != nil {
		t.Fatal(derr)
	}
	if !udf.Equal(row[0], udf.Time(10)) || !udf.Equal(row[1], udf.Int(5)) {
		t.Fatalf("row = %v", row)
	}
}

func TestDecodeCSV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  udf.Row
		class executor.Class
		why   string
	}{
		{"good", "1,a,1.5,true,2024-01-01T00:00:00Z,\"[1,2]\"\r\n",
			udf.Row{udf.Int(1), udf.Str("a"), udf.Float(1.5), udf.Bool(true), udf.Time(1704067200000), udf.Vec([]float64{1, 2})}, "", ""},
		{"quotes and nulls", `2,"x, ""y""",3,,5,`,
			udf.Row{udf.Int(2), udf.Str(`x, "y"`), udf.Float(3), udf.Null, udf.Time(5), udf.Null}, "", ""},
		{"field count", `1,a,1.5`, nil, executor.ClassDecode, "CSV record has 3 fields, want 6"},
		{"literal quotes", `3,a"b,1,,5,`,
			udf.Row{udf.Int(3), udf.Str(`a"b`), udf.Float(1), udf.Null, udf.Time(5), udf.Null}, "", ""},
		{"quoted then text", `4,"x" y,1,,5,`,
			udf.Row{udf.Int(4), udf.Str(`"x" y`), udf.Float(1), udf.Null, udf.Time(5), udf.Null}, "", ""},
		{"unterminated quote", `5,"abc,1,,5,`, nil, executor.ClassDecode, "invalid CSV: unterminated quoted field 2"},
		{"wrong type", `x,a,1,,5,`, nil, executor.ClassType, `column "id": want bigint, got "x"`},
		{"empty not nullable", `1,a,,,5,`, nil, executor.ClassType, `column "amount": empty (not nullable)`},
	}
	d, err := NewDecoder(testSourceOp("csv"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := make(udf.Row, d.Width())
			derr := d.Decode([]byte(tt.in), row)
			if tt.class != "" {
				if derr == nil || derr.Class != tt.class || derr.Reason != tt.why {
					t.Fatalf("got %v, want %s %q", derr, tt.class, tt.why)
				}
				return
			}
			if derr != nil {
				t.Fatalf("unexpected %v", derr)
			}
			for i := range row {
				if !udf.Equal(row[i], tt.want[i]) {
					t.Errorf("column %d = %v, want %v", i, row[i], tt.want[i])
				}
			}
		})
	}
}

func TestAppendJSONRoundTrip(t *testing.T) {
	cols := DeclColumns(testDecl)
	row := udf.Row{udf.Int(-3), udf.Str("q\"\\\n\x01é"), udf.Float(0.1), udf.Null, udf.Time(1704067200123), udf.Vec([]float64{1, -2})}
	got := string(AppendJSON(nil, cols, row))
	want := `{"id":-3,"name":"q\"\\\n\u0001é","amount":0.1,"ok":null,"ts":"2024-01-01T00:00:00.123Z","v":[1,-2]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	d, _ := NewDecoder(testSourceOp("json"), 0)
	back := make(udf.Row, d.Width())
	if derr := d.Decode([]byte(got), back); derr != nil {
		t.Fatal(derr)
	}
	for i := range row {
		if !udf.Equal(row[i], back[i]) {
			t.Errorf("column %d: %v != %v", i, back[i], row[i])
		}
	}
}

// record250 is a typical 250-byte record of the benchmarks.
const record250 = `{"id":123456,"name":"customer-000123456","amount":1234.5678,"ok":true,"ts":"2024-01-01T00:00:00.123Z","region":"eu-west-1","note":"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore","qty":17}`

func BenchmarkDecodeJSON(b *testing.B) {
	op := testSourceOp("json")
	op.Columns = []int{0, 1, 2, 3, 4}
	d, _ := NewDecoder(op, 0)
	data := []byte(record250)
	row := make(udf.Row, d.Width())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if derr := d.Decode(data, row); derr != nil {
			b.Fatal(derr)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	cols := DeclColumns(testDecl)[:5]
	row := udf.Row{udf.Int(123456), udf.Str("customer-000123456"), udf.Float(1234.5678), udf.Bool(true), udf.Time(1704067200123)}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], cols, row)
	}
}
