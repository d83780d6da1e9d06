package spec

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowrun/flowrun/udf"
)

// The named values of Source.TimestampFormat. Any other value is a Go
// time layout (see CheckTimestampLayout).
const (
	// TimestampAuto: RFC 3339 / ISO 8601 strings (T or a space between
	// date and time, optional fraction, Z, a numeric offset or no zone =
	// UTC; a bare date is midnight UTC) and integers of epoch milliseconds.
	TimestampAuto         = "auto"
	TimestampEpochSeconds = "epochSeconds"
	TimestampEpochMillis  = "epochMillis"
	TimestampEpochMicros  = "epochMicros"
	TimestampEpochNanos   = "epochNanos"
)

// TimestampFormats are the named values of Source.TimestampFormat.
var TimestampFormats = []string{TimestampAuto, TimestampEpochSeconds, TimestampEpochMillis, TimestampEpochMicros, TimestampEpochNanos}

// IsTimestampFormatName reports whether f is one of TimestampFormats.
func IsTimestampFormatName(f string) bool { return contains(TimestampFormats, f) }

// layoutRef is the time the layout checks format; the variations below
// change one group of elements each and keep the weekday (all Mondays),
// so that a weekday alone does not count as an element.
var (
	layoutRef   = time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	layoutYear  = time.Date(2012, 1, 2, 15, 4, 5, 0, time.UTC) // another year, same day of year and weekday
	layoutDate  = time.Date(2006, 2, 6, 15, 4, 5, 0, time.UTC) // another month, day and day of year
	layoutClock = time.Date(2006, 1, 2, 3, 7, 8, 0, time.UTC)  // another hour, minute, second, AM/PM
)

// Errors of CheckTimestampLayout.
var (
	ErrLayoutNoElement = errors.New("no element of Go's reference time Mon Jan 2 15:04:05 MST 2006")
	ErrLayoutNoYear    = errors.New("no year (2006 or 06)")
	ErrLayoutNoMore    = errors.New("a year but no month, day or time of day")
)

// CheckTimestampLayout checks a Go time layout of Source.TimestampFormat
// ("2006-01-02 15:04:05", "02/01/2006 15:04", ...): it must have a year
// (2006 or 06) and at least one more element of the reference time (a
// month, a day or a time of day), and parse what it formats.
func CheckTimestampLayout(layout string) error {
	ref := layoutRef.Format(layout)
	year := layoutYear.Format(layout) != ref
	more := layoutDate.Format(layout) != ref || layoutClock.Format(layout) != ref
	switch {
	case !year && !more:
		return ErrLayoutNoElement
	case !year:
		return ErrLayoutNoYear
	case !more:
		return ErrLayoutNoMore
	}
	if _, err := time.Parse(layout, ref); err != nil {
		return fmt.Errorf("it cannot parse the time it formats (%q): %v", ref, err)
	}
	return nil
}

// timestampFormat checks Source.TimestampFormat of the source at path.
func (v *validator) timestampFormat(s *Source, path string) {
	tf := s.TimestampFormat
	if tf == "" {
		return
	}
	pos := v.at(path + ".timestampFormat")
	if !IsTimestampFormatName(tf) {
		switch err := CheckTimestampLayout(tf); {
		case errors.Is(err, ErrLayoutNoElement):
			d := v.err(ErrValue, pos, "bad timestampFormat %q: want auto, epochSeconds, epochMillis, epochMicros, epochNanos or a Go time layout such as \"2006-01-02 15:04:05\"", short(tf))
			d.Hint = didYouMean(tf, TimestampFormats)
			return
		case err != nil:
			d := v.err(ErrValue, pos, "bad timestampFormat layout %q: %v", short(tf), err)
			d.Hint = `a layout writes Go's reference time Mon Jan 2 15:04:05 MST 2006 the way the values look, e.g. "2006-01-02 15:04:05" or "02/01/2006 15:04"`
			return
		}
	}
	for _, c := range s.Schema {
		if c.Type == udf.TypeTimestamp {
			return
		}
	}
	if len(s.Schema) > 0 {
		v.warn(ErrValue, pos, "timestampFormat is ignored: source %s has no timestamp column", s.Name)
	}
}
