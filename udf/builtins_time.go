package udf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Timestamps are epoch milliseconds UTC; these helpers convert through
// time.Time in UTC only, so results never depend on the machine's zone.

func utc(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// timeUnit is a unit keyword of EXTRACT, TIMESTAMP_DIFF, TIMESTAMP_ADD and
// DATE_TRUNC.
type timeUnit uint8

const (
	uMillisecond timeUnit = iota + 1
	uSecond
	uMinute
	uHour
	uDay
	uWeek
	uMonth
	uQuarter
	uYear
	uDayOfWeek
	uDayOfYear
	uEpoch
)

var timeUnits = map[string]timeUnit{
	"MILLISECOND": uMillisecond, "SECOND": uSecond, "MINUTE": uMinute, "HOUR": uHour, "DAY": uDay,
	"WEEK": uWeek, "MONTH": uMonth, "QUARTER": uQuarter, "YEAR": uYear,
	"DAYOFWEEK": uDayOfWeek, "DAYOFYEAR": uDayOfYear, "EPOCH": uEpoch,
}

// unitMillis is the length of fixed-length units.
var unitMillis = map[timeUnit]int64{
	uMillisecond: 1, uSecond: 1000, uMinute: 60_000, uHour: 3_600_000, uDay: 86_400_000, uWeek: 7 * 86_400_000,
}

func parseUnit(fn, s string, allowed ...timeUnit) (timeUnit, error) {
	u, ok := timeUnits[strings.ToUpper(strings.TrimSpace(s))]
	if ok {
		for _, a := range allowed {
			if a == u {
				return u, nil
			}
		}
	}
	names := make([]string, 0, len(allowed))
	for _, a := range allowed {
		for n, v := range timeUnits {
			if v == a {
				names = append(names, n)
			}
		}
	}
	return 0, exprErr(fn, "unknown unit %q (want one of %s)", s, strings.Join(names, ", "))
}

var calendarUnits = []timeUnit{uMillisecond, uSecond, uMinute, uHour, uDay, uWeek, uMonth, uQuarter, uYear}

var extractUnits = []timeUnit{uYear, uQuarter, uMonth, uWeek, uDay, uDayOfWeek, uDayOfYear, uHour, uMinute, uSecond, uMillisecond, uEpoch}

// constUnit is the ConstCheck of functions whose first argument is a unit.
func constUnit(fn string, allowed ...timeUnit) func(int, Value) error {
	return func(i int, v Value) error {
		if i != 0 || v.K != TypeString {
			return nil
		}
		if _, err := parseUnit(fn, v.S, allowed...); err != nil {
			return fmt.Errorf("%w: %s", ErrArgs, strings.TrimPrefix(err.Error(), ErrExpr.Error()+": "))
		}
		return nil
	}
}

func evalExtract(a []Value) (Value, error) {
	u, err := parseUnit("EXTRACT", a[0].S, extractUnits...)
	if err != nil {
		return Null, err
	}
	ms := a[1].I
	t := utc(ms)
	var r int
	switch u {
	case uYear:
		r = t.Year()
	case uQuarter:
		r = (int(t.Month())-1)/3 + 1
	case uMonth:
		r = int(t.Month())
	case uWeek:
		_, r = t.ISOWeek()
	case uDay:
		r = t.Day()
	case uDayOfWeek:
		r = int(t.Weekday()) + 1
	case uDayOfYear:
		r = t.YearDay()
	case uHour:
		r = t.Hour()
	case uMinute:
		r = t.Minute()
	case uSecond:
		r = t.Second()
	case uMillisecond:
		r = t.Nanosecond() / 1e6
	case uEpoch:
		return Int(floorDiv(ms, 1000)), nil
	}
	return Int(int64(r)), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// monthsBetween counts the complete calendar months from a to b (negative
// when b is before a), as MySQL TIMESTAMPDIFF(MONTH, a, b).
func monthsBetween(a, b time.Time) int64 {
	if b.Before(a) {
		return -monthsBetween(b, a)
	}
	m := int64(b.Year()-a.Year())*12 + int64(b.Month()-a.Month())
	// Not complete if b's day-of-month and time is before a's.
	ra := int64(a.Day())*86_400_000 + int64(a.Hour())*3_600_000 + int64(a.Minute())*60_000 + int64(a.Second())*1000 + int64(a.Nanosecond()/1e6)
	rb := int64(b.Day())*86_400_000 + int64(b.Hour())*3_600_000 + int64(b.Minute())*60_000 + int64(b.Second())*1000 + int64(b.Nanosecond()/1e6)
	if rb < ra {
		m--
	}
	return m
}

func evalTimestampDiff(a []Value) (Value, error) {
	u, err := parseUnit("TIMESTAMP_DIFF", a[0].S, calendarUnits...)
	if err != nil {
		return Null, err
	}
	x, y := a[1].I, a[2].I
	switch u {
	case uMonth, uQuarter, uYear:
		m := monthsBetween(utc(x), utc(y))
		switch u {
		case uQuarter:
			m /= 3
		case uYear:
			m /= 12
		}
		return Int(m), nil
	}
	d := y - x
	if (y^x)&(y^d) < 0 { // overflow
		return Null, exprErr("TIMESTAMP_DIFF", "difference overflows bigint")
	}
	return Int(d / unitMillis[u]), nil
}

func evalTimestampAdd(a []Value) (Value, error) {
	u, err := parseUnit("TIMESTAMP_ADD", a[0].S, calendarUnits...)
	if err != nil {
		return Null, err
	}
	n, ms := a[1].I, a[2].I
	switch u {
	case uMonth, uQuarter, uYear:
		if n > 12*300_000_000 || n < -12*300_000_000 { // beyond any representable timestamp
			return Null, exprErr("TIMESTAMP_ADD", "timestamp overflow")
		}
		if u == uQuarter {
			n *= 3
		} else if u == uYear {
			n *= 12
		}
		t := utc(ms)
		y, mo := t.Year(), int(t.Month())-1+int(n)
		y += mo / 12
		mo %= 12
		if mo < 0 {
			mo += 12
			y--
		}
		d := t.Day()
		if last := daysIn(time.Month(mo+1), y); d > last {
			d = last
		}
		r := time.Date(y, time.Month(mo+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		if y > 292_000_000 || y < -292_000_000 || (r.UnixMilli() < 0) != (r.Year() < 1970) {
			return Null, exprErr("TIMESTAMP_ADD", "timestamp overflow")
		}
		return Time(r.UnixMilli()), nil
	}
	step := unitMillis[u]
	if n > math.MaxInt64/step || n < math.MinInt64/step {
		return Null, exprErr("TIMESTAMP_ADD", "timestamp overflow")
	}
	d := n * step
	if (d > 0 && ms > math.MaxInt64-d) || (d < 0 && ms < math.MinInt64-d) {
		return Null, exprErr("TIMESTAMP_ADD", "timestamp overflow")
	}
	return Time(ms + d), nil
}

func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func evalFromUnixtime(a []Value) (Value, error) {
	s, _ := a[0].AsFloat()
	if a[0].K == TypeBigint {
		if a[0].I > math.MaxInt64/1000 || a[0].I < math.MinInt64/1000 {
			return Null, exprErr("FROM_UNIXTIME", "timestamp overflow")
		}
		return Time(a[0].I * 1000), nil
	}
	ms := math.Round(s * 1000)
	if math.IsNaN(ms) || ms >= math.MaxInt64 || ms <= math.MinInt64 {
		return Null, nil
	}
	return Time(int64(ms)), nil
}

func evalUnixTimestamp(a []Value) (Value, error) { return Int(floorDiv(a[0].I, 1000)), nil }

func evalDateTrunc(a []Value) (Value, error) {
	u, err := parseUnit("DATE_TRUNC", a[0].S, calendarUnits...)
	if err != nil {
		return Null, err
	}
	ms := a[1].I
	switch u {
	case uMillisecond, uSecond, uMinute, uHour, uDay:
		s := unitMillis[u]
		return Time(floorDiv(ms, s) * s), nil
	}
	t := utc(ms)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch u {
	case uWeek:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		day = day.AddDate(0, 0, -back)
	case uMonth:
		day = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case uQuarter:
		day = time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	case uYear:
		day = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return Time(day.UnixMilli()), nil
}

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

func evalDateFormat(a []Value) (Value, error) {
	t := utc(a[0].I)
	f := a[1].S
	var b strings.Builder
	pad := func(n, w int) {
		s := strconv.Itoa(n)
		for i := len(s); i < w; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		h12 := t.Hour() % 12
		if h12 == 0 {
			h12 = 12
		}
		switch f[i] {
		case 'Y':
			pad(t.Year(), 4)
		case 'y':
			pad(t.Year()%100, 2)
		case 'm':
			pad(int(t.Month()), 2)
		case 'c':
			pad(int(t.Month()), 1)
		case 'd':
			pad(t.Day(), 2)
		case 'e':
			pad(t.Day(), 1)
		case 'H':
			pad(t.Hour(), 2)
		case 'k':
			pad(t.Hour(), 1)
		case 'h', 'I':
			pad(h12, 2)
		case 'i':
			pad(t.Minute(), 2)
		case 's', 'S':
			pad(t.Second(), 2)
		case 'f':
			pad(t.Nanosecond()/1000, 6)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'b':
			b.WriteString(shortMonths[t.Month()-1])
		case 'M':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(shortDays[t.Weekday()])
		case 'W':
			b.WriteString(t.Weekday().String())
		case 'j':
			pad(t.YearDay(), 3)
		case 'T':
			pad(t.Hour(), 2)
			b.WriteByte(':')
			pad(t.Minute(), 2)
			b.WriteByte(':')
			pad(t.Second(), 2)
		default: // %% and unknown specifiers: the character itself, as MySQL
			b.WriteByte(f[i])
		}
		if b.Len() > MaxString {
			return Null, exprErr("DATE_FORMAT", "result longer than %d bytes", MaxString)
		}
	}
	return Str(b.String()), nil
}
