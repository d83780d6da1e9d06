package nexmarktest

import (
	"slices"
	"testing"
	"time"

	"github.com/flowrun/flowrun/internal/gen"
)

// t0 is 2026-01-01T00:00:00Z in Unix milliseconds.
var t0 = Time(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())

func at(s float64) Time { return t0 + Time(s*1000) }

func bid(auction, bidder, price int64, s float64) Bid {
	return Bid{Auction: auction, Bidder: bidder, Price: price, DateTime: at(s), Extra: "x"}
}

// checkRows compares the oracle's rows with hand-computed ones.
func checkRows(t *testing.T, got, want []Row) {
	t.Helper()
	missing, extra := Diff(got, want)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("missing %q\nextra %q", missing, extra)
	}
}

func TestQ5HotItems(t *testing.T) {
	// Windows of 10 s every 2 s. Auction 1 has bids at 1 s and 3 s, auction
	// 2 one at 3 s. The windows ending at 2 s hold the bid at 1 s, those
	// ending at 4..10 s all three bids, the one ending at 12 s ([2, 12))
	// the two bids at 3 s.
	ev := Events{Bids: []Bid{bid(1, 9, 1, 1), bid(1, 9, 1, 3), bid(2, 9, 1, 3)}}
	var want []Row
	want = append(want, Row{"auction": int64(1), "num": int64(1), "window_end": at(2)})
	for _, end := range []float64{4, 6, 8, 10} {
		want = append(want, Row{"auction": int64(1), "num": int64(2), "window_end": at(end)})
	}
	// Window [2, 12): one bid each, a tie.
	want = append(want, Row{"auction": int64(1), "num": int64(1), "window_end": at(12)},
		Row{"auction": int64(2), "num": int64(1), "window_end": at(12)})
	checkRows(t, Q5(ev), want)
}

func TestQ7HighestBid(t *testing.T) {
	ev := Events{Bids: []Bid{
		bid(1, 1, 5, 1), bid(1, 2, 9, 3), bid(2, 3, 9, 7), bid(2, 1, 4, 9),
		bid(3, 4, 9, 10), // the next window's start: in both BETWEEN ranges
		bid(3, 5, 7, 12), bid(4, 6, 8, 15),
	}}
	row := func(b Bid) Row {
		return Row{"auction": b.Auction, "price": b.Price, "bidder": b.Bidder, "dateTime": b.DateTime, "extra": b.Extra}
	}
	checkRows(t, Q7(ev), []Row{row(ev.Bids[1]), row(ev.Bids[2]), row(ev.Bids[4]), row(ev.Bids[4])})
}

func TestQ11Sessions(t *testing.T) {
	ev := Events{Bids: []Bid{bid(1, 1, 10, 0), bid(1, 2, 50, 2), bid(1, 1, 30, 5), bid(2, 1, 20, 15), bid(2, 1, 5, 24.999), bid(2, 2, 7, 40)}}
	s := func(bidder, n, maxPrice int64, start, end float64) Row {
		return Row{"bidder": bidder, "bid_count": n, "max_price": maxPrice, "starttime": at(start), "endtime": at(end)}
	}
	checkRows(t, Q11(ev), []Row{s(1, 2, 30, 0, 15), s(1, 2, 20, 15, 34.999), s(2, 1, 50, 2, 12), s(2, 1, 7, 40, 50)})
}

func TestQ4AveragePrice(t *testing.T) {
	ev := Events{
		Auctions: []Auction{
			{ID: 1, Category: 10, DateTime: at(0), Expires: at(10)},
			{ID: 2, Category: 10, DateTime: at(1), Expires: at(5)},
			{ID: 3, Category: 11, DateTime: at(2), Expires: at(20)},
			{ID: 4, Category: 11, DateTime: at(3), Expires: at(4)}, // no bid in time
		},
		Bids: []Bid{
			bid(1, 1, 100, 0), bid(1, 1, 300, 10), bid(1, 1, 900, 10.001), // the last after expires
			bid(2, 1, 50, 5),
			bid(3, 1, 70, 3),
			bid(4, 1, 1000, 5),
		},
	}
	end := t0 + Time(2*day) // the day after the winning bids' day window
	checkRows(t, Q4(ev), []Row{
		{"category": int64(10), "avg_price": 175.0, "window_end": end},
		{"category": int64(11), "avg_price": 70.0, "window_end": end},
	})
}

func TestQ3AndQ8(t *testing.T) {
	ev := Events{
		Persons: []Person{
			{ID: 1, Name: "Ann", City: "Boise", State: "ID", DateTime: at(1)},
			{ID: 2, Name: "Bob", City: "Seattle", State: "WA", DateTime: at(1)},
			{ID: 3, Name: "Cid", City: "Portland", State: "OR", DateTime: at(5)},
		},
		Auctions: []Auction{
			{ID: 100, Seller: 1, Category: 10, DateTime: at(3)},
			{ID: 101, Seller: 2, Category: 10, DateTime: at(3)},
			{ID: 102, Seller: 3, Category: 10, DateTime: at(3)}, // before Cid registered
			{ID: 103, Seller: 3, Category: 10, DateTime: at(12)},
			{ID: 104, Seller: 1, Category: 11, DateTime: at(4)},
		},
	}
	checkRows(t, Q3(ev), []Row{
		{"name": "Ann", "city": "Boise", "state": "ID", "id": int64(100)},
		{"name": "Cid", "city": "Portland", "state": "OR", "id": int64(103)},
	})
	// All three registered in [0, 10) and sold in it (Cid at 3 s, before
	// registering at 5 s: the window join does not order them).
	checkRows(t, Q8(ev), []Row{
		{"id": int64(1), "name": "Ann", "window_start": t0},
		{"id": int64(2), "name": "Bob", "window_start": t0},
		{"id": int64(3), "name": "Cid", "window_start": t0},
	})
}

func TestLate(t *testing.T) {
	ts := []Time{at(0), at(2), at(1.5), at(0.9), at(3)}
	if n := Late(ts, time.Second); n != 1 { // 0.9 < 2 - 1
		t.Fatalf("Late = %d, want 1", n)
	}
}

func TestGenerateParses(t *testing.T) {
	d, err := Generate(gen.NexmarkConfig{Events: 5000, Rate: 1000, Start: time.UnixMilli(int64(t0)), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Persons) != 100 || len(d.Auctions) != 300 || len(d.Bids) != 4600 {
		t.Fatalf("%d persons, %d auctions, %d bids; want 1:3:46 of 5000", len(d.Persons), len(d.Auctions), len(d.Bids))
	}
	if !slices.IsSortedFunc(d.Bids, func(a, b Bid) int { return int(a.DateTime - b.DateTime) }) {
		t.Fatal("bids out of event-time order")
	}
	if d.Bids[0].DateTime < t0 || d.Auctions[0].Expires <= d.Auctions[0].DateTime {
		t.Fatalf("times: first bid %v, first auction %v–%v", d.Bids[0].DateTime, d.Auctions[0].DateTime, d.Auctions[0].Expires)
	}
}

func TestDisorderAndOnTime(t *testing.T) {
	d, err := Generate(gen.NexmarkConfig{Events: 5000, Rate: 1000, Start: time.UnixMilli(int64(t0)), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := Disorder(d, 1200*time.Millisecond, 1)
	parsed, err := parse[Bid](x.Bid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(parsed, x.Bids) {
		t.Fatal("the disordered JSON lines and bids differ")
	}
	sorted := slices.Clone(x.Bids)
	slices.SortStableFunc(sorted, func(a, b Bid) int { return int(a.DateTime - b.DateTime) })
	if slices.Equal(sorted, x.Bids) {
		t.Fatal("Disorder kept the order")
	}
	tf := func(b Bid) Time { return b.DateTime }
	acc, late := OnTime(x.Bids, tf, time.Second)
	if late != Late(Times(x.Bids, tf), time.Second) || late == 0 || len(acc)+late != len(d.Bids) {
		t.Fatalf("late %d, accepted %d of %d", late, len(acc), len(d.Bids))
	}
	if acc, late := OnTime(d.Bids, tf, time.Second); late != 0 || !slices.Equal(acc, d.Bids) {
		t.Fatalf("in order: %d late", late)
	}
}
