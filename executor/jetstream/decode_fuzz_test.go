package jetstream

import (
	"testing"

	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// FuzzDecode feeds arbitrary records to the JSON and CSV decoders in every
// quote mode and timestamp format: a record either decodes into values of
// the declared types (or NULL where nullable) or is refused with a class
// and a reason; the decoder never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"name":"a","amount":1.5,"ok":true,"ts":"2024-01-01T00:00:00Z","v":[1,2.5]}`,
		`{"id":1,"name":"a","amount":1,"ts":1700000000.5}`,
		`{"id":"1","ts":"2024-01-01 00:00:00","name":"\u00e9"}`,
		`1,a,1.5,true,2024-01-01T00:00:00Z,`,
		`"1","a ""b""",1.5,,1700000000,`,
		"1\t\"quoted\tx\t2.5\t\t02/01/2024 15:04\t",
		`{"v":[1e400],"ts":-1}`, `[`, ``, `"`, "\xff",
	} {
		f.Add(s)
	}
	type mode struct{ format, quote, delim, ts string }
	modes := []mode{
		{"json", "", "", ""}, {"json", "", "", spec.TimestampEpochSeconds}, {"json", "", "", "02/01/2006 15:04"},
		{"csv", "", ",", ""}, {"csv", spec.CSVQuoteNone, "\t", spec.TimestampEpochNanos}, {"csv", "'", ",", "2006-01-02 15:04:05"},
	}
	var decs []*Decoder
	for _, m := range modes {
		op := testSourceOp(m.format)
		op.CSV = spec.CSVOptions{Delimiter: m.delim, Quote: m.quote}
		op.TimestampFormat = m.ts
		d, err := NewDecoder(op, 4096)
		if err != nil {
			f.Fatalf("%+v: %v", m, err)
		}
		decs = append(decs, d)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		for i, d := range decs {
			row := make(udf.Row, d.Width())
			if derr := d.Decode([]byte(rec), row); derr != nil {
				if derr.Class == "" || derr.Reason == "" {
					t.Fatalf("%+v: refusal without class or reason: %+v", modes[i], derr)
				}
				continue
			}
			for j, v := range row {
				decl := testDecl[j]
				if v.K == udf.TypeNull {
					if !decl.Nullable {
						t.Fatalf("%+v: %q: column %s NULL, not nullable", modes[i], rec, decl.Name)
					}
					continue
				}
				if v.K != decl.Type {
					t.Fatalf("%+v: %q: column %s is %v, declared %v", modes[i], rec, decl.Name, v.K, decl.Type)
				}
			}
		}
	})
}
