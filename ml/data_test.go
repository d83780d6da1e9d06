package ml

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sharedData is the shared data directory, relative to this package.
const sharedData = "../../shared/data"

func openData(t testing.TB, rel string) io.ReadCloser {
	t.Helper()
	p := filepath.Join(sharedData, rel)
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		t.Skipf("data set %s not present (expected in shared/data next to the repository); skipping", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p, ".gz") {
		return f
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}
}

func readCSV(t testing.TB, r io.Reader) [][]string {
	t.Helper()
	cr := csv.NewReader(r)
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func atof(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// loadNumericCSV reads a CSV with a header whose last column is the label.
func loadNumericCSV(t testing.TB, r io.Reader, skipFirst bool) ([]Vector, []float64) {
	rows := readCSV(t, r)[1:]
	X := make([]Vector, len(rows))
	y := make([]float64, len(rows))
	for i, row := range rows {
		if skipFirst {
			row = row[1:]
		}
		x := make([]float64, len(row)-1)
		for j := range x {
			x[j] = atof(t, row[j])
		}
		X[i], y[i] = Dense(x), atof(t, row[len(row)-1])
	}
	return X, y
}

func loadIris(t testing.TB) ([]Vector, []float64) {
	f, err := os.Open("testdata/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return loadNumericCSV(t, f, false)
}

func loadDiabetes(t testing.TB) ([]Vector, []float64) {
	f, err := os.Open("testdata/diabetes.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return loadNumericCSV(t, f, false)
}

// loadCredit returns the UCI credit default data (ID dropped).
func loadCredit(t testing.TB) ([]Vector, []float64) {
	r := openData(t, "uci-credit-default/default_of_credit_card_clients.csv.gz")
	defer r.Close()
	return loadNumericCSV(t, r, true)
}

// loadSMS returns the SMS spam messages and labels (spam = 1), file order.
func loadSMS(t testing.TB) ([]string, []float64) {
	r := openData(t, "sms-spam-collection/SMSSpamCollection.gz")
	defer r.Close()
	var docs []string
	var y []float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		label, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad SMS line %q", sc.Text())
		}
		docs = append(docs, text)
		y = append(y, b2f(label == "spam"))
	}
	return docs, y
}

type rating struct {
	user, item string
	r          float64
	ts         int64
}

// loadMovieLens returns MovieLens 100k ratings sorted (stably) by time.
func loadMovieLens(t testing.TB) []rating {
	r := openData(t, "movielens-100k/u.data.gz")
	defer r.Close()
	var out []rating
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		ts, _ := strconv.ParseInt(f[3], 10, 64)
		out = append(out, rating{f[0], f[1], atof(t, f[2]), ts})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ts < out[j].ts })
	return out
}

type nabPoint struct {
	ts time.Time
	v  float64
}

const nabLayout = "2006-01-02 15:04:05"

// loadNAB returns a NAB series and its labelled anomaly windows.
func loadNAB(t testing.TB, name string) ([]nabPoint, [][2]time.Time) {
	r := openData(t, "nab/data/"+name+".csv.gz")
	defer r.Close()
	rows := readCSV(t, r)[1:]
	pts := make([]nabPoint, len(rows))
	for i, row := range rows {
		ts, err := time.Parse(nabLayout, row[0])
		if err != nil {
			t.Fatal(err)
		}
		pts[i] = nabPoint{ts, atof(t, row[1])}
	}
	lr := openData(t, "nab/labels/combined_windows.json")
	defer lr.Close()
	var labels map[string][][2]string
	if err := json.NewDecoder(lr).Decode(&labels); err != nil {
		t.Fatal(err)
	}
	var wins [][2]time.Time
	for _, w := range labels[name+".csv"] {
		a, err1 := time.Parse(nabLayout+".000000", w[0])
		b, err2 := time.Parse(nabLayout+".000000", w[1])
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		wins = append(wins, [2]time.Time{a, b})
	}
	return pts, wins
}

func mustNew(t testing.TB, name string, params map[string]any, seed int64) Model {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("no algorithm %q", name)
	}
	m, err := a.New(params, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func predictAll(m Model, X []Vector) []float64 {
	p := make([]float64, len(X))
	for i, x := range X {
		p[i] = m.Predict(x)
	}
	return p
}
