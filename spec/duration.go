package spec

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// ParseDuration parses a job-file duration: a sequence of decimal numbers
// with units ns, us, ms, s, m, h and d (24h), e.g. 500ms, 1h30m, 1d12h,
// 1.5s. "0" is the zero duration. Negative durations are refused.
func ParseDuration(s string) (Duration, error) {
	orig := short(s)
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, errors.New("bad duration " + strconv.Quote(orig) + ": want a number then a unit, e.g. 500ms, 5s, 10m, 1h, 1d")
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, errors.New("bad duration " + strconv.Quote(orig) + ": bad number " + strconv.Quote(s[:i]))
		}
		s = s[i:]
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		u, ok := durationUnits[s[:j]]
		if !ok && strings.ContainsAny(s[:j], " \t") {
			return 0, errors.New("bad duration " + strconv.Quote(orig) + ": write the number and unit together, e.g. 500ms, 5s, 10m, 1h, 1d")
		}
		if !ok {
			if j == 0 {
				return 0, errors.New("bad duration " + strconv.Quote(orig) + ": missing unit (ms, s, m, h or d)")
			}
			return 0, errors.New("bad duration " + strconv.Quote(orig) + ": unknown unit " + strconv.Quote(s[:j]) + " (want ns, us, ms, s, m, h or d)")
		}
		s = s[j:]
		total += n * float64(u)
		if total > math.MaxInt64 {
			return 0, errors.New("bad duration " + strconv.Quote(orig) + ": too long")
		}
	}
	return Duration(total), nil
}

// String formats d in the job-file syntax, with a `d` unit for whole days.
func (d Duration) String() string {
	td := time.Duration(d)
	if td >= 24*time.Hour && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	s := td.String()
	// time.Duration prints 10m0s and 1h0m0s: drop zero parts.
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText writes d in the job-file syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses the job-file syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
