package udf

// num2 parses the two decimal digits at s[i:i+2].
func num2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	if a > 9 || b > 9 {
		return 0, false
	}
	return int(a)*10 + int(b), true
}

// ParseISOTime parses the common ISO 8601 shapes of a timestamp into
// epoch milliseconds by hand, without allocating:
//
//	YYYY-MM-DD
//	YYYY-MM-DD[T ]hh:mm[:ss[.fraction]][Z|±hh:mm|±hhmm|±hh]
//
// (no zone is UTC; ',' may separate the fraction). It gives the same
// result as time.Parse(time.RFC3339Nano, s).UnixMilli() for every s both
// accept; callers fall back to time.Parse for other shapes. The source
// decoder and CAST(... AS TIMESTAMP) both use it.
func ParseISOTime(s string) (int64, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	yh, ok1 := num2(s, 0)
	yl, ok2 := num2(s, 2)
	mon, ok3 := num2(s, 5)
	day, ok4 := num2(s, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 || mon < 1 || mon > 12 {
		return 0, false
	}
	year := yh*100 + yl
	if day < 1 || day > daysInMonth(year, mon) {
		return 0, false
	}
	days := daysFromCivil(year, mon, day)
	if len(s) == 10 {
		return days * 86_400_000, true
	}
	if len(s) < 16 || s[10] != 'T' && s[10] != ' ' || s[13] != ':' {
		return 0, false
	}
	hour, ok1 := num2(s, 11)
	minute, ok2 := num2(s, 14)
	if !ok1 || !ok2 || hour > 23 || minute > 59 {
		return 0, false
	}
	i, sec, ms := 16, 0, 0
	if i < len(s) && s[i] == ':' {
		if len(s) < 19 {
			return 0, false
		}
		var ok bool
		if sec, ok = num2(s, 17); !ok || sec > 59 {
			return 0, false
		}
		i = 19
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			i++
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				if i-start < 3 {
					ms = ms*10 + int(s[i]-'0')
				}
				i++
			}
			switch i - start {
			case 0:
				return 0, false
			case 1:
				ms *= 100
			case 2:
				ms *= 10
			}
		}
	}
	off := 0
	if i < len(s) {
		switch s[i] {
		case 'Z':
			i++
		case '+', '-':
			z := s[i+1:]
			var oh, om int
			var ok1, ok2 bool
			switch len(z) {
			case 2: // ±hh
				oh, ok1 = num2(z, 0)
				ok2 = true
			case 4: // ±hhmm
				oh, ok1 = num2(z, 0)
				om, ok2 = num2(z, 2)
			case 5: // ±hh:mm
				oh, ok1 = num2(z, 0)
				om, ok2 = num2(z, 3)
				ok2 = ok2 && z[2] == ':'
			}
			if !ok1 || !ok2 || oh > 23 || om > 59 {
				return 0, false
			}
			off = (oh*60 + om) * 60
			if s[i] == '-' {
				off = -off
			}
			i = len(s)
		default:
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	secs := days*86400 + int64(hour*3600+minute*60+sec-off)
	return secs*1000 + int64(ms), true
}

// daysInMonth is the number of days of month m (1-12) of year y
// (proleptic Gregorian calendar).
func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a date of the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400 // [0, 399]
	mp := m + 9        // March = 0
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
