package gen

import (
	"bufio"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// NexmarkConfig configures Nexmark. The defaults follow the standard
// Nexmark generator (Apache Beam / Flink): persons, auctions and bids in
// proportion 1:3:46, hot auctions and hot bidders, 10 000 events per second
// of event time.
type NexmarkConfig struct {
	Events int       // total events
	Rate   float64   // events per second of event time
	Start  time.Time // event time of the first event
	Seed   uint64
	// ExtraBytes pads each event's extra field (the standard generator sizes
	// events with it); 0 gives small events.
	ExtraBytes int
}

// DefaultNexmarkConfig returns the standard proportions at 10k events/s.
func DefaultNexmarkConfig() NexmarkConfig {
	return NexmarkConfig{
		Events: 100_000,
		Rate:   10_000,
		Start:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Seed:   1,
	}
}

// Nexmark proportions and constants of the standard generator.
const (
	nexPersonProportion  = 1
	nexAuctionProportion = 3
	nexBidProportion     = 46
	nexTotalProportion   = nexPersonProportion + nexAuctionProportion + nexBidProportion
	nexFirstPersonID     = 1000
	nexFirstAuctionID    = 1000
	nexFirstCategoryID   = 10
	nexNumCategories     = 5
	nexHotAuctionRatio   = 2
	nexHotBidderRatio    = 4
	nexHotSellerRatio    = 4
	nexActivePeople      = 1000
	nexInFlightAuctions  = 100
	nexAuctionLengthMs   = 10_000 // expected auction length in event time
)

var (
	nexFirstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	nexLastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	nexCities     = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	nexStates     = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	nexChannels   = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// NexmarkSink receives generated events as JSON lines, one writer per event
// type; a nil writer skips that type.
type NexmarkSink struct {
	Person, Auction, Bid io.Writer
}

// Nexmark generates cfg.Events events in event-time order and writes each
// as a JSON line to the writer of its type. The events do not depend on which
// writers are set. Columns (the standard Nexmark names):
//
//	person:  id, name, emailAddress, creditCard, city, state, dateTime, extra
//	auction: id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra
//	bid:     auction, bidder, price, channel, url, dateTime, extra
//
// It returns the number of persons, auctions and bids written.
func Nexmark(cfg NexmarkConfig, out NexmarkSink) (persons, auctions, bids int, err error) {
	if cfg.Rate <= 0 {
		panic("gen: Nexmark Rate must be positive")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6a09e667f3bcc909))
	w := func(x io.Writer) *bufio.Writer {
		if x == nil {
			return nil
		}
		return bufio.NewWriterSize(x, 64<<10)
	}
	pw, aw, bw := w(out.Person), w(out.Auction), w(out.Bid)
	extra := func(b []byte) []byte {
		for range cfg.ExtraBytes {
			b = append(b, byte('a'+rng.IntN(26)))
		}
		return b
	}
	// lastPerson and lastAuction are the ids of the newest person and
	// auction, from which bids and auctions pick recent ones as in the
	// standard generator.
	lastPerson := int64(nexFirstPersonID - 1)
	lastAuction := int64(nexFirstAuctionID - 1)
	nextPrice := func() int64 { return int64(math.Round(math.Pow(10, rng.Float64()*6) * 100)) }
	recentPerson := func() int64 {
		n := lastPerson - nexFirstPersonID + 1
		if n <= 0 {
			return nexFirstPersonID
		}
		if n > nexActivePeople {
			n = nexActivePeople
		}
		return lastPerson - rng.Int64N(n)
	}
	recentAuction := func() int64 {
		n := lastAuction - nexFirstAuctionID + 1
		if n <= 0 {
			return nexFirstAuctionID
		}
		if n > nexInFlightAuctions {
			n = nexInFlightAuctions
		}
		return lastAuction - rng.Int64N(n)
	}
	var b []byte
	startMs := cfg.Start.UnixMilli()
	for n := 0; n < cfg.Events; n++ {
		ts := startMs + int64(float64(n)*1000/cfg.Rate)
		b = b[:0]
		switch r := n % nexTotalProportion; {
		case r < nexPersonProportion:
			lastPerson++
			persons++
			name := nexFirstNames[rng.IntN(len(nexFirstNames))] + " " + nexLastNames[rng.IntN(len(nexLastNames))]
			b = append(b, `{"id":`...)
			b = strconv.AppendInt(b, lastPerson, 10)
			b = append(b, `,"name":"`...)
			b = append(b, name...)
			b = append(b, `","emailAddress":"`...)
			b = append(b, randWord(rng, 7)...)
			b = append(b, '@')
			b = append(b, randWord(rng, 5)...)
			b = append(b, `.com","creditCard":"`...)
			for i := range 4 {
				if i > 0 {
					b = append(b, ' ')
				}
				b = append(b, strconv.Itoa(1000+rng.IntN(9000))...)
			}
			b = append(b, `","city":"`...)
			b = append(b, nexCities[rng.IntN(len(nexCities))]...)
			b = append(b, `","state":"`...)
			b = append(b, nexStates[rng.IntN(len(nexStates))]...)
			b = append(b, `","dateTime":`...)
			b = appendTime(b, time.UnixMilli(ts))
			b = append(b, `,"extra":"`...)
			b = extra(b)
			b = append(b, "\"}\n"...)
			if pw != nil {
				_, err = pw.Write(b)
			}
		case r < nexPersonProportion+nexAuctionProportion:
			lastAuction++
			auctions++
			seller := recentPerson()
			if rng.IntN(nexHotSellerRatio) > 0 {
				seller = (lastPerson / nexHotSellerRatio) * nexHotSellerRatio
				if seller < nexFirstPersonID {
					seller = nexFirstPersonID
				}
			}
			initial := nextPrice()
			b = append(b, `{"id":`...)
			b = strconv.AppendInt(b, lastAuction, 10)
			b = append(b, `,"itemName":"`...)
			b = append(b, randWord(rng, 8)...)
			b = append(b, `","description":"`...)
			b = append(b, randWord(rng, 12)...)
			b = append(b, `","initialBid":`...)
			b = strconv.AppendInt(b, initial, 10)
			b = append(b, `,"reserve":`...)
			b = strconv.AppendInt(b, initial+nextPrice(), 10)
			b = append(b, `,"dateTime":`...)
			b = appendTime(b, time.UnixMilli(ts))
			b = append(b, `,"expires":`...)
			b = appendTime(b, time.UnixMilli(ts+int64(rng.ExpFloat64()*nexAuctionLengthMs)+1))
			b = append(b, `,"seller":`...)
			b = strconv.AppendInt(b, seller, 10)
			b = append(b, `,"category":`...)
			b = strconv.AppendInt(b, int64(nexFirstCategoryID+rng.IntN(nexNumCategories)), 10)
			b = append(b, `,"extra":"`...)
			b = extra(b)
			b = append(b, "\"}\n"...)
			if aw != nil {
				_, err = aw.Write(b)
			}
		default:
			bids++
			auction := recentAuction()
			if rng.IntN(nexHotAuctionRatio) > 0 {
				auction = (lastAuction / nexHotAuctionRatio) * nexHotAuctionRatio
				if auction < nexFirstAuctionID {
					auction = nexFirstAuctionID
				}
			}
			bidder := recentPerson()
			if rng.IntN(nexHotBidderRatio) > 0 {
				bidder = (lastPerson/nexHotBidderRatio)*nexHotBidderRatio + 1
				if bidder > lastPerson {
					bidder = lastPerson
				}
				if bidder < nexFirstPersonID {
					bidder = nexFirstPersonID
				}
			}
			ch := rng.IntN(len(nexChannels))
			b = append(b, `{"auction":`...)
			b = strconv.AppendInt(b, auction, 10)
			b = append(b, `,"bidder":`...)
			b = strconv.AppendInt(b, bidder, 10)
			b = append(b, `,"price":`...)
			b = strconv.AppendInt(b, nextPrice(), 10)
			b = append(b, `,"channel":"`...)
			b = append(b, nexChannels[ch]...)
			b = append(b, `","url":"https://www.nexmark.com/`...)
			b = append(b, randWord(rng, 5)...)
			b = append(b, `/item.htm?query=1&channel_id=`...)
			b = strconv.AppendInt(b, int64(ch), 10)
			b = append(b, `","dateTime":`...)
			b = appendTime(b, time.UnixMilli(ts))
			b = append(b, `,"extra":"`...)
			b = extra(b)
			b = append(b, "\"}\n"...)
			if bw != nil {
				_, err = bw.Write(b)
			}
		}
		if err != nil {
			return
		}
	}
	for _, x := range []*bufio.Writer{pw, aw, bw} {
		if x != nil {
			if err = x.Flush(); err != nil {
				return
			}
		}
	}
	return
}

func randWord(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return b
}
