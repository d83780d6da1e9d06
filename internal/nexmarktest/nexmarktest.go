// Package nexmarktest holds independent oracles for the Nexmark jobs in
// pipelines/nexmark: plain Go batch computations, over the events of the
// deterministic generator (gen.Nexmark), of what each job's SQL means
// (docs/sql.md). The end-to-end tests of cmd/flowrun run each job bounded
// through `flowrun run` and compare its sink's rows with the oracle's as a
// multiset.
//
// The oracles share no code with the planner or the executor: they read
// the generated JSON lines with encoding/json, compute with maps and sorts,
// and return rows as maps from output column to value (int64, float64,
// string, or Time for timestamps).
//
//	d, _ := nexmarktest.Generate(gen.NexmarkConfig{Events: 30_000, Rate: 1000, Start: t0, Seed: 7})
//	want := nexmarktest.Q7(d.Events)
//	missing, extra := nexmarktest.Diff(got, want)
//
// Event time: each source's watermark is the maximum event time seen minus
// maxOutOfOrderness. The generator writes every stream in event-time order,
// so no row of any source is ever behind its watermark, and no window or
// join can see a late row: the oracles assume no row is late, and Late
// checks that assumption on the generated streams (the tests also assert
// that the engine dead-lettered nothing).
package nexmarktest

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowrun/flowrun/internal/gen"
)

// Person, Auction and Bid are the generator's events; times are Unix
// milliseconds.
type (
	Person struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Email    string `json:"emailAddress"`
		Card     string `json:"creditCard"`
		City     string `json:"city"`
		State    string `json:"state"`
		DateTime Time   `json:"dateTime"`
		Extra    string `json:"extra"`
	}
	Auction struct {
		ID          int64  `json:"id"`
		ItemName    string `json:"itemName"`
		Description string `json:"description"`
		InitialBid  int64  `json:"initialBid"`
		Reserve     int64  `json:"reserve"`
		DateTime    Time   `json:"dateTime"`
		Expires     Time   `json:"expires"`
		Seller      int64  `json:"seller"`
		Category    int64  `json:"category"`
		Extra       string `json:"extra"`
	}
	Bid struct {
		Auction  int64  `json:"auction"`
		Bidder   int64  `json:"bidder"`
		Price    int64  `json:"price"`
		Channel  string `json:"channel"`
		URL      string `json:"url"`
		DateTime Time   `json:"dateTime"`
		Extra    string `json:"extra"`
	}
)

// Time is an event time in Unix milliseconds; it decodes from and prints
// as RFC 3339 with milliseconds in UTC, as flowrun writes timestamps.
type Time int64

// UnmarshalJSON decodes an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	x, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = Time(x.UnixMilli())
	return nil
}

// String formats t like flowrun's JSON encoder.
func (t Time) String() string {
	return time.UnixMilli(int64(t)).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Events are the parsed events of one generator run, each type in stream
// (and event-time) order.
type Events struct {
	Persons  []Person
	Auctions []Auction
	Bids     []Bid
}

// Data is one generator run: the JSON lines per type (what flowrun run
// --input publishes) and the same events parsed.
type Data struct {
	Person, Auction, Bid []byte
	Events
}

// Generate runs the generator and parses its output.
func Generate(cfg gen.NexmarkConfig) (*Data, error) {
	var p, a, b bytes.Buffer
	if _, _, _, err := gen.Nexmark(cfg, gen.NexmarkSink{Person: &p, Auction: &a, Bid: &b}); err != nil {
		return nil, err
	}
	d := &Data{Person: p.Bytes(), Auction: a.Bytes(), Bid: b.Bytes()}
	var err error
	if d.Persons, err = parse[Person](d.Person); err != nil {
		return nil, fmt.Errorf("person: %w", err)
	}
	if d.Auctions, err = parse[Auction](d.Auction); err != nil {
		return nil, fmt.Errorf("auction: %w", err)
	}
	if d.Bids, err = parse[Bid](d.Bid); err != nil {
		return nil, fmt.Errorf("bid: %w", err)
	}
	return d, nil
}

func parse[T any](b []byte) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var x T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, x)
	}
	return out, sc.Err()
}

// Late returns how many of the event times, taken in stream order, are
// behind their source's watermark (the maximum seen before minus
// maxOutOfOrderness) — rows that any window or join might treat as late.
func Late(ts []Time, maxOutOfOrderness time.Duration) int {
	n := 0
	maxSeen := Time(math.MinInt64)
	ooo := Time(maxOutOfOrderness.Milliseconds())
	for _, t := range ts {
		if maxSeen != Time(math.MinInt64) && t < maxSeen-ooo {
			n++
		}
		maxSeen = max(maxSeen, t)
	}
	return n
}

// Times returns the event times of the events.
func Times[T any](xs []T, f func(T) Time) []Time {
	out := make([]Time, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// Row is one output row: column name → int64, float64, string or Time.
type Row map[string]any

// Canon renders a row as a canonical string: columns sorted; numbers
// (int64, float64, or float64 from encoding/json) rounded to 10 significant
// digits, so that sums computed in a different order compare equal;
// timestamps as RFC 3339 strings.
func Canon(r Row) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		switch v := r[k].(type) {
		case int64:
			b.WriteString(canonFloat(float64(v)))
		case int:
			b.WriteString(canonFloat(float64(v)))
		case float64:
			b.WriteString(canonFloat(v))
		case Time:
			b.WriteString(strconv.Quote(v.String()))
		case string:
			b.WriteString(strconv.Quote(v))
		case nil:
			b.WriteString("null")
		default:
			fmt.Fprintf(&b, "%v", v)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func canonFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 10, 64)
}

// Diff compares got and want as multisets of canonical rows and returns the
// rows missing from got and the rows got has in excess, each sorted.
func Diff(got, want []Row) (missing, extra []string) {
	count := map[string]int{}
	for _, r := range want {
		count[Canon(r)]++
	}
	for _, r := range got {
		count[Canon(r)]--
	}
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
		for ; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// ParseJSONL reads rows written by flowrun run --output.
func ParseJSONL(b []byte) ([]Row, error) {
	var out []Row
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// Disorder returns a copy of d whose events arrive out of event-time order:
// in each stream, every event is delayed by a random 0..maxDelay (fixed
// seed) and the stream is published in order of delayed time.
func Disorder(d *Data, maxDelay time.Duration, seed uint64) *Data {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := *d
	out.Person, out.Persons = disorder(d.Person, d.Persons, func(p Person) Time { return p.DateTime }, maxDelay, rng)
	out.Auction, out.Auctions = disorder(d.Auction, d.Auctions, func(a Auction) Time { return a.DateTime }, maxDelay, rng)
	out.Bid, out.Bids = disorder(d.Bid, d.Bids, func(b Bid) Time { return b.DateTime }, maxDelay, rng)
	return &out
}

func disorder[T any](jsonl []byte, xs []T, f func(T) Time, maxDelay time.Duration, rng *rand.Rand) ([]byte, []T) {
	lines := bytes.SplitAfter(jsonl, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) != len(xs) {
		panic("nexmarktest: JSON lines and events differ")
	}
	type arrival struct {
		at int64
		i  int
	}
	order := make([]arrival, len(xs))
	for i, x := range xs {
		order[i] = arrival{int64(f(x)) + rng.Int64N(maxDelay.Milliseconds()+1), i}
	}
	slices.SortStableFunc(order, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	out := make([]T, 0, len(xs))
	var buf bytes.Buffer
	for _, a := range order {
		out = append(out, xs[a.i])
		buf.Write(lines[a.i])
	}
	return buf.Bytes(), out
}

// OnTime splits events taken in stream order into those a source accepts
// and those it dead-letters as late: event time < watermark, the watermark
// being the maximum event time seen before minus maxOutOfOrderness
// (allowedLateness 0). The accepted events are returned sorted by event
// time (stable), as the oracles expect.
func OnTime[T any](xs []T, f func(T) Time, maxOutOfOrderness time.Duration) (accepted []T, late int) {
	maxSeen := Time(math.MinInt64)
	ooo := Time(maxOutOfOrderness.Milliseconds())
	for _, x := range xs {
		t := f(x)
		if maxSeen != Time(math.MinInt64) && t < maxSeen-ooo {
			late++
			continue
		}
		maxSeen = max(maxSeen, t)
		accepted = append(accepted, x)
	}
	slices.SortStableFunc(accepted, func(a, b T) int { return cmp.Compare(f(a), f(b)) })
	return accepted, late
}
