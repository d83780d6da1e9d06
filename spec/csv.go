package spec

import "fmt"

// The values of CSVOptions.Quote besides a single character.
const (
	// CSVQuoteDefault is the default quote character (RFC 4180).
	CSVQuoteDefault = `"`
	// CSVQuoteNone: fields are never quoted; every character up to the
	// delimiter is field text, quotes included.
	CSVQuoteNone = "none"
)

// CheckCSVQuote checks a value of CSVOptions.Quote: "" (the default),
// CSVQuoteNone, or one printable ASCII character other than a space and
// the delimiter (delim; "" is ","). It returns the quote byte, 0 for
// none.
func CheckCSVQuote(quote, delim string) (byte, error) {
	if delim == "" {
		delim = ","
	}
	switch {
	case quote == "":
		return '"', nil
	case quote == CSVQuoteNone:
		return 0, nil
	case len(quote) != 1 || quote[0] <= ' ' || quote[0] > '~':
		return 0, fmt.Errorf(`bad csv quote %q: want none or one ASCII character (" by default)`, short(quote))
	case quote == delim:
		return 0, fmt.Errorf("csv quote %q is also the delimiter", quote)
	}
	return quote[0], nil
}

// csvOptions checks the csv options of a CSV source at path (the
// delimiter is checked by the caller).
func (v *validator) csvOptions(s *Source, path string) {
	if s.Format != "csv" || s.CSV == nil || s.CSV.Quote == "" {
		return
	}
	if _, err := CheckCSVQuote(s.CSV.Quote, s.CSV.Delimiter); err != nil {
		d := v.err(ErrValue, v.at(path+".csv.quote"), "%v", err)
		if d.Hint = didYouMean(s.CSV.Quote, []string{CSVQuoteNone}); d.Hint == "" {
			d.Hint = `quote: none reads every " as text; or write one quote character, such as "'"`
		}
	}
}
