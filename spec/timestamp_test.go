package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// tsJob is a job whose two sources have the timestampFormats a and b.
func tsJob(a, b string) string {
	return `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata: {name: ts}
spec:
  sources:
    - name: ev
      jetstream: {stream: EV}
      format: csv
      timestampFormat: ` + a + `
      schema: {id: bigint, ts: timestamp}
      eventTime: {column: ts}
    - name: other
      jetstream: {stream: OTHER}
      timestampFormat: ` + b + `
      schema: {id: bigint, at: timestamp}
  sinks:
    - {name: a, from: ev, jetstream: {stream: A, subject: a}}
    - {name: b, from: other, jetstream: {stream: B, subject: b}}
`
}

// posOf returns the line and column (1-based) of the n-th (0-based)
// occurrence of "timestampFormat: " + value in src, at the value.
func posOf(t *testing.T, src, value string, n int) (int, int) {
	t.Helper()
	key := "timestampFormat: " + value
	for i, line := range strings.Split(src, "\n") {
		if c := strings.Index(line, key); c >= 0 {
			if n == 0 {
				return i + 1, c + len("timestampFormat: ") + 1
			}
			n--
		}
	}
	t.Fatalf("%q not in the job", key)
	return 0, 0
}

func TestTimestampFormatValid(t *testing.T) {
	for _, tf := range []string{"auto", "epochSeconds", "epochMillis", "epochMicros", "epochNanos",
		`"2006-01-02 15:04:05"`, `"02/01/2006 15:04"`, `"2006-01-02T15:04:05.000Z07:00"`, `"Jan 2 06"`, `"20060102"`, `"2006-01"`} {
		_, ds := Parse("ts.yaml", []byte(tsJob(tf, "epochMillis")))
		if len(ds) > 0 {
			t.Errorf("timestampFormat %s: %v", tf, ds)
		}
	}
}

func TestTimestampFormatErrors(t *testing.T) {
	tests := []struct {
		a, b string // the two sources' values
		msg  string // the message of the diagnostic of the first source
		hint string
	}{
		{"epochSecond", "auto", `bad timestampFormat "epochSecond": want auto, epochSeconds, epochMillis, epochMicros, epochNanos or a Go time layout such as "2006-01-02 15:04:05"`, `did you mean "epochSeconds"?`},
		{"EpochNanos", "auto", `bad timestampFormat "EpochNanos": want auto, epochSeconds, epochMillis, epochMicros, epochNanos or a Go time layout such as "2006-01-02 15:04:05"`, `did you mean "epochNanos"?`},
		{"unix", "auto", `bad timestampFormat "unix": want auto, epochSeconds, epochMillis, epochMicros, epochNanos or a Go time layout such as "2006-01-02 15:04:05"`, ""},
		{`"15:04:05"`, "auto", `bad timestampFormat layout "15:04:05": no year (2006 or 06)`, "a layout writes Go's reference time"},
		{`"2006"`, "auto", `bad timestampFormat layout "2006": a year but no month, day or time of day`, "a layout writes Go's reference time"},
		{`"Monday 2006"`, "auto", `bad timestampFormat layout "Monday 2006": a year but no month, day or time of day`, "a layout writes Go's reference time"},
	}
	for _, tt := range tests {
		t.Run(tt.a, func(t *testing.T) {
			src := tsJob(tt.a, tt.b)
			_, ds := Parse("ts.yaml", []byte(src))
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %d:\n%v", len(ds), ds)
			}
			d := ds[0]
			line, col := posOf(t, src, tt.a, 0)
			if d.Severity != Error || !errors.Is(d.Err, ErrValue) || d.Msg != tt.msg || !strings.HasPrefix(d.Hint, tt.hint) || (tt.hint == "") != (d.Hint == "") {
				t.Fatalf("got %s %q (hint %q), want error %q (hint %q)", d.Severity, d.Msg, d.Hint, tt.msg, tt.hint)
			}
			if d.Pos.File != "ts.yaml" || d.Pos.Line != line || d.Pos.Col != col {
				t.Fatalf("at %v, want ts.yaml:%d:%d", d.Pos, line, col)
			}
		})
	}
	// Every problem at once: both sources, each at its own line.
	src := tsJob("epochSecs", `"15:04"`)
	_, ds := Parse("ts.yaml", []byte(src))
	if len(ds) != 2 {
		t.Fatalf("want two diagnostics, got %v", ds)
	}
	for i, v := range []string{"epochSecs", `"15:04"`} {
		line, col := posOf(t, src, v, 0)
		if ds[i].Pos.Line != line || ds[i].Pos.Col != col {
			t.Errorf("diagnostic %d at %v, want %d:%d", i, ds[i].Pos, line, col)
		}
	}
	var b strings.Builder
	ds.Format(&b, func(string) []byte { return []byte(src) })
	line, col := posOf(t, src, "epochSecs", 0)
	want := fmt.Sprintf("ts.yaml:%d:%d: error: bad timestampFormat \"epochSecs\"", line, col)
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), `did you mean "epochSeconds"?`) {
		t.Errorf("formatted:\n%s\nwant a line starting %q and a suggestion", b.String(), want)
	}
}

func TestTimestampFormatWithoutTimestampColumns(t *testing.T) {
	src := strings.Replace(tsJob("auto", "epochSeconds"), "{id: bigint, at: timestamp}", "{id: bigint, at: string}", 1)
	_, ds := Parse("ts.yaml", []byte(src))
	if len(ds) != 1 || ds[0].Severity != Warning || ds[0].Msg != "timestampFormat is ignored: source other has no timestamp column" {
		t.Fatalf("got %v, want one warning", ds)
	}
	if line, _ := posOf(t, src, "epochSeconds", 0); ds[0].Pos.Line != line {
		t.Fatalf("warning at %v, want line %d", ds[0].Pos, line)
	}
}

func TestCheckTimestampLayout(t *testing.T) {
	// The variations of the check keep the weekday, so that a weekday
	// alone is not an element besides the year.
	for _, v := range []time.Time{layoutYear, layoutDate, layoutClock} {
		if v.Weekday() != layoutRef.Weekday() {
			t.Fatalf("%v is a %v, not a %v", v, v.Weekday(), layoutRef.Weekday())
		}
	}
	for layout, want := range map[string]error{
		"2006-01-02 15:04:05":      nil,
		"02/01/2006 15:04":         nil,
		"01/02/06":                 nil,
		"2006-002":                 nil, // day of the year
		"Jan 2006":                 nil,
		"2006 15h":                 nil,
		"2006-01-02T15:04:05Z0700": nil,
		"epochSeconds":             ErrLayoutNoElement,
		"":                         ErrLayoutNoElement,
		"15:04:05":                 ErrLayoutNoYear,
		"02/01":                    ErrLayoutNoYear,
		"06":                       ErrLayoutNoMore,
		"2006 Mon MST":             ErrLayoutNoMore,
	} {
		if err := CheckTimestampLayout(layout); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("CheckTimestampLayout(%q) = %v, want %v", layout, err, want)
		}
	}
}

// TestSchemaTimestampFormat checks the JSON Schema of timestampFormat: a
// name or a layout, not a misspelled name.
func TestSchemaTimestampFormat(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		value string
		ok    bool
	}{
		{"auto", true}, {"epochNanos", true}, {`"2006-01-02 15:04:05"`, true}, {`"02/01/06"`, true},
		{"epochSecs", false}, {"EPOCHSECONDS", false}, {"1", false},
	} {
		var v any
		if err := yaml.Unmarshal([]byte(tsJob(c.value, "auto")), &v); err != nil {
			t.Fatal(err)
		}
		errs := validateSchema(schema, schema, v, "")
		if ok := len(errs) == 0; ok != c.ok {
			t.Errorf("timestampFormat %s: schema accepts %v, want %v (%v)", c.value, ok, c.ok, errs)
		}
	}
}
