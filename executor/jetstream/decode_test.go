package jetstream

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
		{"bad time", `{"id":1,"name":"a","amount":1,"ts":"yesterday"}`, nil, executor.ClassType, `column "ts": "yesterday" is not an RFC 3339 or ISO 8601 time (timestampFormat auto)`},
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

// tsDecl is the schema of the timestamp format tests.
var tsDecl = []spec.Column{{Name: "id", Type: udf.TypeBigint}, {Name: "ts", Type: udf.TypeTimestamp}}

func tsDecoder(t *testing.T, format, timestampFormat string) *Decoder {
	t.Helper()
	op := &planner.SourceOp{Source: "ev", Format: format, TimestampFormat: timestampFormat, Decl: tsDecl, Columns: []int{0, 1}}
	d, err := NewDecoder(op, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecodeTimestampFormats(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) int64 {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixMilli()
	}
	zone := func(hours, minutes int) *time.Location {
		return time.FixedZone("", (hours*60+minutes)*60)
	}
	at := func(y int, mo time.Month, d, h, mi, s, ns int, loc *time.Location) int64 {
		return time.Date(y, mo, d, h, mi, s, ns, loc).UnixMilli()
	}
	const bad = int64(-1 << 63) // want an error
	tests := []struct {
		format string // timestampFormat
		json   string // the JSON value ("" = not tried in JSON)
		csv    string // the CSV field ("" = not tried in CSV)
		want   int64
		why    string // the reason of the type error when want is bad
	}{
		// auto: what worked before reads the same.
		{"", `"2024-03-05T06:07:08Z"`, "2024-03-05T06:07:08Z", utc(2024, 3, 5, 6, 7, 8, 0), ""},
		{"auto", `"2024-03-05T06:07:08.123456789+05:30"`, "2024-03-05T06:07:08.123456789+05:30", at(2024, 3, 5, 6, 7, 8, 123456789, zone(5, 30)), ""},
		{"", `"2024-03-05T06:07:08.5-08:00"`, "2024-03-05T06:07:08.5-08:00", at(2024, 3, 5, 6, 7, 8, 5e8, zone(-8, 0)), ""},
		{"", `"2024-03-05T06:07:08.12Z"`, "", utc(2024, 3, 5, 6, 7, 8, 12e7), ""},
		{"", `"2024-03-05T06:07:08,25Z"`, "", utc(2024, 3, 5, 6, 7, 8, 25e7), ""},
		{"", `"2024-03-05T06:07:08.1234567891234Z"`, "", utc(2024, 3, 5, 6, 7, 8, 123456789), ""},
		{"", `"2024-03-05T6:07:08Z"`, "2024-03-05T6:07:08Z", utc(2024, 3, 5, 6, 7, 8, 0), ""}, // time.Parse's leniency, kept
		{"", `"1969-12-31T23:59:59.9995Z"`, "", utc(1969, 12, 31, 23, 59, 59, 999500000), ""},
		{"", `"0000-02-29T00:00:00Z"`, "", utc(0, 2, 29, 0, 0, 0, 0), ""},
		{"", `1709618828123`, "1709618828123", utc(2024, 3, 5, 6, 7, 8, 123e6), ""},
		{"", `-1500`, "-1500", -1500, ""},
		// auto: ISO 8601 shapes that did not parse before.
		{"", `"2024-03-05 06:07:08"`, "2024-03-05 06:07:08", utc(2024, 3, 5, 6, 7, 8, 0), ""},
		{"", `"2024-03-05T06:07:08"`, "2024-03-05T06:07:08", utc(2024, 3, 5, 6, 7, 8, 0), ""},
		{"", `"2024-03-05 06:07:08.75"`, "2024-03-05 06:07:08.75", utc(2024, 3, 5, 6, 7, 8, 75e7), ""},
		{"", `"2024-03-05 06:07"`, "2024-03-05 06:07", utc(2024, 3, 5, 6, 7, 0, 0), ""},
		{"", `"2024-03-05 06:07Z"`, "", utc(2024, 3, 5, 6, 7, 0, 0), ""},
		{"", `"2024-03-05"`, "2024-03-05", utc(2024, 3, 5, 0, 0, 0, 0), ""},
		{"", `"2024-02-29"`, "", utc(2024, 2, 29, 0, 0, 0, 0), ""},
		{"", `"2024-03-05 06:07:08+0530"`, "", at(2024, 3, 5, 6, 7, 8, 0, zone(5, 30)), ""},
		{"", `"2024-03-05T06:07:08-03"`, "", at(2024, 3, 5, 6, 7, 8, 0, zone(-3, 0)), ""},
		{"", `"1960-07-01 12:00:00.001-01:30"`, "", at(1960, 7, 1, 12, 0, 0, 1e6, zone(-1, -30)), ""},
		// auto: not times.
		{"", `"yesterday"`, "yesterday", bad, `column "ts": "yesterday" is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `"2023-02-29"`, "2023-02-29", bad, `column "ts": "2023-02-29" is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `"2024-13-01 00:00:00"`, "", bad, `column "ts": "2024-13-01 00:00:00" is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `"2024-03-05T24:00:00Z"`, "", bad, `column "ts": "2024-03-05T24:00:00Z" is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `"2024-03-05T06:07:08.Z"`, "", bad, `column "ts": "2024-03-05T06:07:08.Z" is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `"2024-03-05 06:07:08 "`, "", bad, `column "ts": "2024-03-05 06:07:08 " is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `"2024-03-05T06:07:08+5:30"`, "", bad, `column "ts": "2024-03-05T06:07:08+5:30" is not an RFC 3339 or ISO 8601 time%s (timestampFormat auto)`},
		{"", `1.5`, "", bad, `column "ts": 1.5 is not an integer`},

		// epochSeconds
		{"epochSeconds", `1700000000`, "1700000000", time.Unix(1700000000, 0).UnixMilli(), ""},
		{"epochSeconds", `1700000000.123`, "1700000000.123", time.Unix(1700000000, 123e6).UnixMilli(), ""},
		{"epochSeconds", `1700000000.1239`, "1700000000.1239", time.Unix(1700000000, 123900000).UnixMilli(), ""},
		{"epochSeconds", `"1700000000.5"`, `"1700000000.5"`, time.Unix(1700000000, 5e8).UnixMilli(), ""},
		{"epochSeconds", `-1.5`, "-1.5", time.Unix(-2, 5e8).UnixMilli(), ""},
		{"epochSeconds", `-0.0001`, "-0.0001", time.Unix(-1, 999900000).UnixMilli(), ""},
		{"epochSeconds", `1.7e9`, "1.7E+9", time.Unix(1700000000, 0).UnixMilli(), ""},
		{"epochSeconds", `0`, "0", 0, ""},
		{"epochSeconds", `"abc"`, "abc", bad, `column "ts": "abc" is not a number of epoch seconds (timestampFormat epochSeconds)`},
		{"epochSeconds", `"2024-03-05"`, "2024-03-05", bad, `column "ts": "2024-03-05" is not a number of epoch seconds (timestampFormat epochSeconds)`},
		{"epochSeconds", `"1700000000."`, "1700000000.", bad, `column "ts": "1700000000." is not a number of epoch seconds (timestampFormat epochSeconds)`},
		{"epochSeconds", `true`, "", bad, `column "ts": want timestamp, got bool`},
		{"epochSeconds", `99999999999999999`, "99999999999999999", bad, `column "ts": "99999999999999999" is out of range for timestamp (timestampFormat epochSeconds)`},
		{"epochSeconds", `1e300`, "1e300", bad, `column "ts": "1e300" is out of range for timestamp (timestampFormat epochSeconds)`},
		// epochMillis
		{"epochMillis", `1700000000123`, "1700000000123", time.UnixMilli(1700000000123).UnixMilli(), ""},
		{"epochMillis", `1700000000123.9`, "1700000000123.9", 1700000000123, ""},
		{"epochMillis", `-0.5`, "-0.5", -1, ""},
		{"epochMillis", `"x1"`, "x1", bad, `column "ts": "x1" is not a number of epoch milliseconds (timestampFormat epochMillis)`},
		// epochMicros
		{"epochMicros", `1700000000123456`, "1700000000123456", time.UnixMicro(1700000000123456).UnixMilli(), ""},
		{"epochMicros", `-1500`, "-1500", time.UnixMicro(-1500).UnixMilli(), ""},
		{"epochMicros", `1700000000123999.9`, "", time.UnixMicro(1700000000123999).UnixMilli(), ""},
		// epochNanos
		{"epochNanos", `1700000000123456789`, "1700000000123456789", time.Unix(0, 1700000000123456789).UnixMilli(), ""},
		{"epochNanos", `-1`, "-1", time.Unix(0, -1).UnixMilli(), ""},
		{"epochNanos", `"1700000000999999999"`, "", time.Unix(0, 1700000000999999999).UnixMilli(), ""},
		{"epochNanos", `"1 700"`, "1 700", bad, `column "ts": "1 700" is not a number of epoch nanoseconds (timestampFormat epochNanos)`},
		// Go layouts
		{"2006-01-02 15:04:05", `"2024-03-05 06:07:08"`, "2024-03-05 06:07:08", utc(2024, 3, 5, 6, 7, 8, 0), ""},
		{"2006-01-02 15:04:05", `"2024-03-05 06:07:08.25"`, "", utc(2024, 3, 5, 6, 7, 8, 25e7), ""},
		{"02/01/2006 15:04", `"05/03/2024 06:07"`, "05/03/2024 06:07", utc(2024, 3, 5, 6, 7, 0, 0), ""},
		{"2006-01-02T15:04:05-0700", `"2024-03-05T06:07:08+0200"`, "2024-03-05T06:07:08+0200", at(2024, 3, 5, 6, 7, 8, 0, zone(2, 0)), ""},
		{"Jan 2, 2006 3:04 PM", `"Mar 5, 2024 6:07 PM"`, `"Mar 5, 2024 6:07 PM"`, utc(2024, 3, 5, 18, 7, 0, 0), ""},
		{"20060102", `20240305`, "20240305", utc(2024, 3, 5, 0, 0, 0, 0), ""},
		{"02/01/2006 15:04", `"2024-03-05 06:07"`, "2024-03-05 06:07", bad, `column "ts": "2024-03-05 06:07" does not match timestampFormat "02/01/2006 15:04"`},
		{"02/01/2006 15:04", `"32/01/2024 00:00"`, "32/01/2024 00:00", bad, `column "ts": "32/01/2024 00:00" does not match timestampFormat "02/01/2006 15:04": day out of range`},
		{"02/01/2006 15:04", `[1]`, "", bad, `column "ts": want timestamp, got array`},
	}
	for _, tt := range tests {
		for _, kind := range []string{"json", "csv"} {
			val := tt.json
			rec := `{"id":7,"ts":` + val + `}`
			if kind == "csv" {
				val = tt.csv
				rec = "7," + val
			}
			if val == "" {
				continue
			}
			t.Run(kind+" "+tt.format+" "+val, func(t *testing.T) {
				d := tsDecoder(t, kind, tt.format)
				row := make(udf.Row, 2)
				derr := d.Decode([]byte(rec), row)
				if tt.want == bad {
					// JSON strings are strings; a CSV field in auto format
					// may also be epoch milliseconds.
					why := strings.Replace(tt.why, "%s", "", 1)
					if kind == "csv" {
						why = strings.Replace(tt.why, "%s", " or epoch milliseconds", 1)
						why = strings.Replace(why, `"`+tt.csv+`"`, `"`+strings.Trim(tt.csv, `"`)+`"`, 1)
					}
					if derr == nil {
						t.Fatalf("decoded %v, want a type error", row)
					}
					if derr.Class != executor.ClassType || derr.Reason != why {
						t.Fatalf("got %s %q\nwant %s %q", derr.Class, derr.Reason, executor.ClassType, why)
					}
					return
				}
				if derr != nil {
					t.Fatalf("unexpected %v", derr)
				}
				if !udf.Equal(row[1], udf.Time(tt.want)) || !udf.Equal(row[0], udf.Int(7)) {
					t.Fatalf("got %v, want ts %d (%s)", row, tt.want, time.UnixMilli(tt.want).UTC().Format(time.RFC3339Nano))
				}
			})
		}
	}
}

// TestParseTimeCompat checks that parseTime reads every string that
// time.Parse(time.RFC3339Nano) reads (what timestampFormat auto accepted
// before its own parser) into the same instant.
func TestParseTimeCompat(t *testing.T) {
	var in []string
	for _, date := range []string{"2024-03-05", "1969-12-31", "2000-02-29", "0000-01-01", "9999-12-31", "1900-02-28", "2023-02-29", "2024-00-10", "2024-1-05"} {
		for _, clock := range []string{"T06:07:08", "T23:59:59", "T00:00:00", "T6:07:08", "T24:00:00", "T12:60:00", "T12:00:60", " 06:07:08", "T06:07"} {
			for _, frac := range []string{"", ".5", ".123", ".123456789", ".1234567891", ",25", ".", ".x"} {
				for _, zone := range []string{"Z", "+00:00", "-00:00", "+05:30", "-08:00", "+23:59", "+24:00", "-12:60", "+0530", "", "z", "+5:30"} {
					in = append(in, date+clock+frac+zone)
				}
			}
		}
	}
	n := 0
	for _, s := range in {
		want, err := time.Parse(time.RFC3339Nano, s)
		got, ok := parseTime(s)
		if err != nil {
			continue
		}
		n++
		if !ok || got != want.UnixMilli() {
			t.Errorf("parseTime(%q) = %d, %v; time.Parse gives %d", s, got, ok, want.UnixMilli())
		}
	}
	if n < 1000 {
		t.Fatalf("only %d of %d strings parse with time.Parse", n, len(in))
	}
}

// FuzzParseTime checks parseTime against time.Parse on what both accept.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-03-05T06:07:08Z", "2024-03-05T06:07:08.123456789+05:30", "2024-03-05 06:07", "2024-03-05", "1969-12-31T23:59:59.9995-01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTime(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && (!ok || got != want.UnixMilli()) {
			t.Fatalf("parseTime(%q) = %d, %v; time.Parse gives %d", s, got, ok, want.UnixMilli())
		}
		if ok && len(s) >= 19 && s[10] == 'T' && s[len(s)-1] == 'Z' && err != nil && s[11] != ' ' {
			// The fast path's shape with a Z: time.Parse reads it too
			// unless a field is out of its range.
			if !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("parseTime(%q) = %d, but time.Parse fails: %v", s, got, err)
			}
		}
	})
}

func TestDecodeTimestampNoAllocs(t *testing.T) {
	for _, rec := range []string{
		`{"id":1,"ts":"2024-03-05T06:07:08.123Z"}`,
		`{"id":1,"ts":"2024-03-05T06:07:08+05:30"}`,
		`{"id":1,"ts":"2024-03-05 06:07:08"}`,
		`{"id":1,"ts":"2024-03-05"}`,
		`{"id":1,"ts":1709618828123}`,
	} {
		d := tsDecoder(t, "json", "")
		row := make(udf.Row, 2)
		data := []byte(rec)
		if n := testing.AllocsPerRun(100, func() {
			if derr := d.Decode(data, row); derr != nil {
				t.Fatal(derr)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per decode, want 0", rec, n)
		}
	}
	for _, tf := range []string{"epochSeconds", "epochNanos"} {
		d := tsDecoder(t, "csv", tf)
		row := make(udf.Row, 2)
		data := []byte("1,1700000000.123")
		if n := testing.AllocsPerRun(100, func() {
			if derr := d.Decode(data, row); derr != nil {
				t.Fatal(derr)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per decode, want 0", tf, n)
		}
	}
}

func TestNewDecoderTimestampFormat(t *testing.T) {
	for _, tf := range []string{"epochSecs", "15:04:05", "2006", "unix"} {
		op := &planner.SourceOp{Source: "ev", Format: "json", TimestampFormat: tf, Decl: tsDecl}
		if _, err := NewDecoder(op, 0); err == nil || !strings.Contains(err.Error(), "timestampFormat") {
			t.Errorf("%q: err = %v, want a timestampFormat error", tf, err)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, c := range []struct {
		format, s string
		want      int64
		err       string
	}{
		{"", "2024-03-05 06:07:08", time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC).UnixMilli(), ""},
		{"auto", "1709618828123", 1709618828123, ""},
		{"epochSeconds", "1700000000.5", 1700000000500, ""},
		{"02/01/2006", "05/03/2024", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC).UnixMilli(), ""},
		{"epochMillis", "soon", 0, `"soon" is not a number of epoch milliseconds (timestampFormat epochMillis)`},
		{"", "soon", 0, `"soon" is not an RFC 3339 or ISO 8601 time or epoch milliseconds (timestampFormat auto)`},
		{"seconds", "1", 0, `timestampFormat "seconds": want auto, epochSeconds, epochMillis, epochMicros, epochNanos or a Go time layout (no element of Go's reference time Mon Jan 2 15:04:05 MST 2006)`},
	} {
		got, err := ParseTimestamp(c.format, c.s)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseTimestamp(%q, %q): err %v, want %q", c.format, c.s, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseTimestamp(%q, %q) = %d, %v; want %d", c.format, c.s, got, err, c.want)
		}
	}
}

// csvRecord250 is record250 as a CSV record of csvBenchDecl (a quoted
// field among unquoted ones).
const csvRecord250 = `123456,customer-000123456,1234.5678,true,2024-01-01T00:00:00.123Z,eu-west-1,"lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua",17`

// tsvRecord250 is the same record tab-separated and unquoted, its note
// starting with a literal quote (csv.quote: none).
const tsvRecord250 = "123456\tcustomer-000123456\t1234.5678\ttrue\t2024-01-01T00:00:00.123Z\teu-west-1\t" +
	`"lorem ipsum" dolor sit amet, consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua` + "\t17"

var csvBenchDecl = append(append([]spec.Column(nil), testDecl[:5]...),
	spec.Column{Name: "region", Type: udf.TypeString},
	spec.Column{Name: "note", Type: udf.TypeString},
	spec.Column{Name: "qty", Type: udf.TypeBigint})

func benchDecodeCSV(b *testing.B, opts spec.CSVOptions, rec string) {
	op := &planner.SourceOp{Source: "orders", Format: "csv", CSV: opts, Decl: csvBenchDecl, Columns: []int{0, 1, 2, 3, 4, 6}}
	d, err := NewDecoder(op, 0)
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(rec)
	row := make(udf.Row, d.Width())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if derr := d.Decode(data, row); derr != nil {
			b.Fatal(derr)
		}
	}
}

// BenchmarkDecodeCSV decodes a 250-byte RFC 4180 record (the default
// quoting).
func BenchmarkDecodeCSV(b *testing.B) { benchDecodeCSV(b, spec.CSVOptions{}, csvRecord250) }

// BenchmarkDecodeCSVQuoteNone decodes a 250-byte tab-separated record
// with csv.quote: none.
func BenchmarkDecodeCSVQuoteNone(b *testing.B) {
	benchDecodeCSV(b, spec.CSVOptions{Delimiter: "\t", Quote: spec.CSVQuoteNone}, tsvRecord250)
}

// BenchmarkDecodeCSVShort decodes a record of short numeric fields, one
// empty (NULL).
func BenchmarkDecodeCSVShort(b *testing.B) {
	var decl []spec.Column
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		decl = append(decl, spec.Column{Name: n, Type: udf.TypeBigint, Nullable: true})
	}
	op := &planner.SourceOp{Source: "x", Format: "csv", Decl: decl}
	d, err := NewDecoder(op, 0)
	if err != nil {
		b.Fatal(err)
	}
	data := []byte("1,22,,4,5,666,7,8")
	row := make(udf.Row, d.Width())
	b.ReportAllocs()
	for b.Loop() {
		if derr := d.Decode(data, row); derr != nil {
			b.Fatal(derr)
		}
	}
}

// csvDecoder returns a decoder of decl in CSV with the options o.
func csvDecoder(t *testing.T, decl []spec.Column, o spec.CSVOptions) *Decoder {
	t.Helper()
	op := &planner.SourceOp{Source: "sms", Format: "csv", CSV: o, Decl: decl}
	d, err := NewDecoder(op, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type csvCase struct {
	name  string
	in    string
	want  udf.Row
	class executor.Class
	why   string
}

func runCSVCases(t *testing.T, d *Decoder, tests []csvCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := make(udf.Row, d.Width())
			derr := d.Decode([]byte(tt.in), row)
			if tt.class != "" {
				if derr == nil || derr.Class != tt.class || derr.Reason != tt.why {
					t.Fatalf("got %v (row %v), want %s %q", derr, row, tt.class, tt.why)
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

// smsDecl is label<TAB>text of the SMS Spam Collection, with a nullable
// label.
var smsDecl = []spec.Column{
	{Name: "label", Type: udf.TypeString, Nullable: true},
	{Name: "text", Type: udf.TypeString},
}

func TestDecodeCSVQuoteNone(t *testing.T) {
	s, null := udf.Str, udf.Null
	d := csvDecoder(t, smsDecl, spec.CSVOptions{Delimiter: "\t", Quote: spec.CSVQuoteNone})
	runCSVCases(t, d, []csvCase{
		{"plain", "ham\tOk lar... Joking wif u oni...", udf.Row{s("ham"), s("Ok lar... Joking wif u oni...")}, "", ""},
		{"leading quote", "ham\t\"Hello\" she said", udf.Row{s("ham"), s(`"Hello" she said`)}, "", ""},
		{"whole field in quotes", "spam\t\"FREE\"", udf.Row{s("spam"), s(`"FREE"`)}, "", ""},
		{"unbalanced quote", "ham\t\"Don't stop", udf.Row{s("ham"), s(`"Don't stop`)}, "", ""},
		{"embedded quotes", "ham\ta \"\"b\" c\"", udf.Row{s("ham"), s(`a ""b" c"`)}, "", ""},
		{"only a quote", "\"\t\"", udf.Row{s(`"`), s(`"`)}, "", ""},
		{"doubled quotes are two", "\"\"\t\"\"", udf.Row{s(`""`), s(`""`)}, "", ""},
		{"empty nullable is NULL", "\tno label", udf.Row{null, s("no label")}, "", ""},
		{"empty string not nullable", "ham\t", udf.Row{s("ham"), s("")}, "", ""},
		{"line end", "ham\t\"hi\"\r\n", udf.Row{s("ham"), s(`"hi"`)}, "", ""},
		{"delimiter inside would-be quotes", "ham\t\"a\tb\"", nil, executor.ClassDecode, "CSV record has 3 fields, want 2"},
		{"too few", "ham", nil, executor.ClassDecode, "CSV record has 1 fields, want 2"},
		{"empty record", "", nil, executor.ClassDecode, "CSV record has 1 fields, want 2"},
	})

	// Typed columns: an empty field is NULL when nullable, a type error
	// when not; a quote is never taken off a value.
	d = csvDecoder(t, testDecl, spec.CSVOptions{Quote: spec.CSVQuoteNone})
	runCSVCases(t, d, []csvCase{
		{"types", "1,a,1.5,true,2024-01-01T00:00:00Z,",
			udf.Row{udf.Int(1), s("a"), udf.Float(1.5), udf.Bool(true), udf.Time(1704067200000), null}, "", ""},
		{"nulls and quotes", `2,"x",3,,5,`, udf.Row{udf.Int(2), s(`"x"`), udf.Float(3), null, udf.Time(5), null}, "", ""},
		{"quoted empty is text", `2,"",3,,5,`, udf.Row{udf.Int(2), s(`""`), udf.Float(3), null, udf.Time(5), null}, "", ""},
		{"empty not nullable", `1,a,,,5,`, nil, executor.ClassType, `column "amount": empty (not nullable)`},
		{"quoted number", `"1",a,1,,5,`, nil, executor.ClassType, `column "id": want bigint, got "\"1\""`},
		{"quoted bool", `1,a,1,"true",5,`, nil, executor.ClassType, `column "ok": want bool, got "\"true\""`},
		{"delimiter inside would-be quotes", `1,"x, y",1,,5,`, nil, executor.ClassDecode, "CSV record has 7 fields, want 6"},
		{"vector", "1,a,1,,5,[1]", udf.Row{udf.Int(1), s("a"), udf.Float(1), null, udf.Time(5), udf.Vec([]float64{1})}, "", ""},
	})
}

func TestDecodeCSVQuoteChar(t *testing.T) {
	s, null := udf.Str, udf.Null
	d := csvDecoder(t, smsDecl, spec.CSVOptions{Quote: "'"})
	runCSVCases(t, d, []csvCase{
		{"quoted", `'ham','a, b'`, udf.Row{s("ham"), s("a, b")}, "", ""},
		{"doubled quote", `ham,'it''s'`, udf.Row{s("ham"), s("it's")}, "", ""},
		{"double quotes are text", `"ham","a"`, udf.Row{s(`"ham"`), s(`"a"`)}, "", ""},
		{"quote inside is text", `ham,it's`, udf.Row{s("ham"), s("it's")}, "", ""},
		{"quoted empty string", `'',''`, udf.Row{s(""), s("")}, "", ""},
		{"empty nullable", `,x`, udf.Row{null, s("x")}, "", ""},
		{"unterminated", `ham,'abc`, nil, executor.ClassDecode, "invalid CSV: unterminated quoted field 2"},
	})
}

func TestNewDecoderCSVQuote(t *testing.T) {
	for _, tt := range []struct {
		quote, delim, err string
	}{
		{"", "", ""},
		{`"`, "", ""},
		{"none", "\t", ""},
		{"'", "", ""},
		{"None", "", `jetstream: source sms: bad csv quote "None": want none or one ASCII character (" by default)`},
		{"''", "", `jetstream: source sms: bad csv quote "''": want none or one ASCII character (" by default)`},
		{"\t", ",", `jetstream: source sms: bad csv quote "\t": want none or one ASCII character (" by default)`},
		{"é", "", `jetstream: source sms: bad csv quote "é": want none or one ASCII character (" by default)`},
		{";", ";", `jetstream: source sms: csv quote ";" is also the delimiter`},
		{",", "", `jetstream: source sms: csv quote "," is also the delimiter`},
	} {
		op := &planner.SourceOp{Source: "sms", Format: "csv", CSV: spec.CSVOptions{Delimiter: tt.delim, Quote: tt.quote}, Decl: smsDecl}
		_, err := NewDecoder(op, 0)
		if got := fmt.Sprint(err); tt.err == "" && err != nil || tt.err != "" && got != tt.err {
			t.Errorf("quote %q delimiter %q: err = %v, want %q", tt.quote, tt.delim, err, tt.err)
		}
	}
}

func TestSplitCSV(t *testing.T) {
	for _, tt := range []struct {
		o    spec.CSVOptions
		rec  string
		want []string
		err  string
	}{
		{spec.CSVOptions{}, `a,"b, ""c""",`, []string{"a", `b, "c"`, ""}, ""},
		{spec.CSVOptions{}, `a,"b`, nil, "invalid CSV: unterminated quoted field 2"},
		{spec.CSVOptions{Delimiter: "\t", Quote: "none"}, "\"a\t\"b\t", []string{`"a`, `"b`, ""}, ""},
		{spec.CSVOptions{Delimiter: ";", Quote: "'"}, `'a;b';"c"`, []string{"a;b", `"c"`}, ""},
		{spec.CSVOptions{Quote: "no"}, `a`, nil, `bad csv quote "no": want none or one ASCII character (" by default)`},
	} {
		got, err := SplitCSV(tt.o, []byte(tt.rec))
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("%+v %q: got %q, %v; want %q, %s", tt.o, tt.rec, got, err, tt.want, tt.err)
		}
	}
}

// TestDecodeCSVNoAllocs: decoding a CSV record does not allocate, with
// any quoting (a doubled quote inside a quoted field is the exception).
func TestDecodeCSVNoAllocs(t *testing.T) {
	for _, tt := range []struct {
		o   spec.CSVOptions
		rec string
	}{
		{spec.CSVOptions{}, csvRecord250},
		{spec.CSVOptions{Delimiter: "\t", Quote: spec.CSVQuoteNone}, tsvRecord250},
		{spec.CSVOptions{Quote: "'"}, strings.ReplaceAll(csvRecord250, `"`, "'")},
	} {
		op := &planner.SourceOp{Source: "orders", Format: "csv", CSV: tt.o, Decl: csvBenchDecl, Columns: []int{0, 1, 2, 3, 4, 6}}
		d, err := NewDecoder(op, 0)
		if err != nil {
			t.Fatal(err)
		}
		row := make(udf.Row, d.Width())
		data := []byte(tt.rec)
		if n := testing.AllocsPerRun(100, func() {
			if derr := d.Decode(data, row); derr != nil {
				t.Fatal(derr)
			}
		}); n != 0 {
			t.Errorf("quote %q: %v allocations per decode, want 0", tt.o.Quote, n)
		}
	}
}
