package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/server"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var meta = registry.VersionMeta{Features: []string{"x0", "x1"}, Label: "y", Metrics: map[string]float64{"auc": 0.99}}

// train fits a logistic regression on y = [w0·x0 + w1·x1 > 0].
func train(t testing.TB, w0, w1 float64) ml.Model {
	t.Helper()
	a, _ := ml.Lookup("logistic_regression")
	m, err := a.New(map[string]any{"optimizer": "lbfgs"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var X []ml.Vector
	var y []float64
	for range 400 {
		x0, x1 := rng.NormFloat64(), rng.NormFloat64()
		X = append(X, ml.Dense([]float64{x0, x1}))
		y = append(y, map[bool]float64{true: 1, false: 0}[w0*x0+w1*x1 > 0])
	}
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	return m
}

type fixture struct {
	reg *registry.Registry
	srv *httptest.Server
	api *server.ModelAPI
	m1  ml.Model
}

func setup(t testing.TB, cfg server.Config) *fixture {
	t.Helper()
	nc := jstest.Connect(t, jstest.RunServer(t))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := registry.Open(ctx, js, registry.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	f := &fixture{reg: reg, m1: train(t, 1, 1)}
	if _, err := reg.Publish(ctx, "fraud", f.m1, meta); err != nil {
		t.Fatal(err)
	}
	cfg.Logger = quiet
	f.api = server.NewModelAPI(reg, cfg)
	t.Cleanup(f.api.Close)
	f.srv = httptest.NewServer(f.api)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t testing.TB, method, path, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: bad JSON %q", method, path, b)
		}
	} else {
		out = map[string]any{"text": string(b)}
	}
	return resp.StatusCode, out
}

func TestPredict(t *testing.T) {
	f := setup(t, server.Config{MaxBody: 4096})
	body := `{"instances": [{"x0": 1, "x1": 0.5}, {"x0": -1, "x1": -0.25, "extra": "ignored"}, [2, true]]}`
	code, out := f.do(t, "POST", "/v1/models/fraud:predict", body)
	if code != 200 {
		t.Fatalf("predict: %d %v", code, out)
	}
	preds := out["predictions"].([]any)
	for i, x := range [][]float64{{1, 0.5}, {-1, -0.25}, {2, 1}} {
		want := f.m1.Predict(ml.Dense(x))
		if got := preds[i].(float64); math.Abs(got-want) > 1e-12 {
			t.Errorf("prediction %d = %v, want %v", i, got, want)
		}
	}
	if out["model_version"].(float64) != 1 {
		t.Errorf("model_version %v", out["model_version"])
	}

	// Errors, each with a clear message.
	big := `{"instances": [` + strings.Repeat(`{"x0": 1, "x1": 2},`, 300) + `{"x0": 1, "x1": 2}]}`
	cases := []struct {
		name, method, path, body string
		code                     int
		msg                      string
	}{
		{"bad JSON", "POST", "/v1/models/fraud:predict", `{"instances": [`, 400, "bad JSON"},
		{"no instances", "POST", "/v1/models/fraud:predict", `{}`, 400, `missing "instances"`},
		{"unknown field", "POST", "/v1/models/fraud:predict", `{"inputs": []}`, 400, `unknown field "inputs"`},
		{"missing feature", "POST", "/v1/models/fraud:predict", `{"instances": [{"x0": 1}]}`, 400, `instance 0: missing feature "x1"`},
		{"wrong type", "POST", "/v1/models/fraud:predict", `{"instances": [{"x0": 1, "x1": "high"}]}`, 400, `feature "x1": want a number, got a string`},
		{"null", "POST", "/v1/models/fraud:predict", `{"instances": [{"x0": null, "x1": 1}]}`, 400, `feature "x0": want a number, got null`},
		{"wrong length", "POST", "/v1/models/fraud:predict", `{"instances": [[1]]}`, 400, "1 values"},
		{"unknown model", "POST", "/v1/models/nope:predict", `{"instances": []}`, 404, `model "nope" not found`},
		{"bad model name", "POST", "/v1/models/a%2Fb:predict", `{"instances": []}`, 404, "not found"},
		{"too large", "POST", "/v1/models/fraud:predict", big, 413, "larger than 4096 bytes"},
		{"method", "GET", "/v1/models/fraud:predict", "", 405, "method GET not allowed"},
		{"no route", "GET", "/v2/x", "", 404, "no route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := f.do(t, c.method, c.path, c.body)
			if code != c.code || !strings.Contains(out["error"].(string), c.msg) {
				t.Errorf("%d %q, want %d containing %q", code, out["error"], c.code, c.msg)
			}
		})
	}

	code, out = f.do(t, "GET", "/v1/models", "")
	if code != 200 || len(out["models"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, out)
	}
	code, out = f.do(t, "GET", "/v1/models/fraud", "")
	if code != 200 || out["serving_version"].(float64) != 1 || out["ready"] != true {
		t.Fatalf("get: %d %v", code, out)
	}
	code, out = f.do(t, "GET", "/metrics", "")
	text := out["text"].(string)
	for _, want := range []string{
		`flowrun_serve_requests_total{model="fraud",code="200"} 1`,
		`flowrun_serve_requests_total{model="fraud",code="400"} 7`,
		`flowrun_serve_requests_total{model="",code="404"} 2`,
		`flowrun_serve_request_duration_seconds_count{model="fraud"}`,
		`flowrun_serve_predictions_total{model="fraud"} 3`,
		`flowrun_serve_model_version{model="fraud"} 1`,
	} {
		if code != 200 || !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}

func TestHotSwap(t *testing.T) {
	f := setup(t, server.Config{})
	ctx := context.Background()
	body := `{"instances": [{"x0": 1, "x1": 0.5}]}`
	if code, out := f.do(t, "POST", "/v1/models/fraud:predict", body); code != 200 || out["predictions"].([]any)[0].(float64) < 0.5 {
		t.Fatalf("v1: %d %v", code, out)
	}
	v2, err := f.reg.Publish(ctx, "fraud", train(t, -1, 1), meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.reg.Promote(ctx, "fraud", v2); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 2*time.Second, "promotion not served", func() bool {
		_, out := f.do(t, "POST", "/v1/models/fraud:predict", body)
		return out["model_version"].(float64) == 2 && out["predictions"].([]any)[0].(float64) < 0.5
	})
	// A pinned version still answers.
	for range 2 {
		code, out := f.do(t, "POST", "/v1/models/fraud/versions/1:predict", body)
		if code != 200 || out["model_version"].(float64) != 1 || out["predictions"].([]any)[0].(float64) < 0.5 {
			t.Fatalf("pinned v1: %d %v", code, out)
		}
	}
	if code, out := f.do(t, "POST", "/v1/models/fraud/versions/9:predict", body); code != 404 || !strings.Contains(out["error"].(string), "no version 9") {
		t.Fatalf("v9: %d %v", code, out)
	}
}

func TestToken(t *testing.T) {
	f := setup(t, server.Config{Token: "s3cret"})
	body := `{"instances": [[1, 2]]}`
	if code, out := f.do(t, "POST", "/v1/models/fraud:predict", body); code != 401 || !strings.Contains(out["error"].(string), "bearer token") {
		t.Errorf("no token: %d %v", code, out)
	}
	if code, _ := f.do(t, "POST", "/v1/models/fraud:predict", body, "Authorization", "Bearer wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _ := f.do(t, "GET", "/metrics", "", "Authorization", "Bearer s3cre"); code != 401 {
		t.Errorf("prefix of token: %d", code)
	}
	if code, out := f.do(t, "POST", "/v1/models/fraud:predict", body, "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("right token: %d %v", code, out)
	}
	if code, _ := f.do(t, "GET", "/livez", ""); code != 200 {
		t.Errorf("livez needs no token: %d", code)
	}
	if code, _ := f.do(t, "GET", "/readyz", ""); code != 200 {
		t.Errorf("readyz: %d", code)
	}
}

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"10.0.0.5:80", "", false},
		{"0.0.0.0:8080", "t", true},
		{"nonsense", "", false},
	} {
		if err := server.CheckAddr(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q, %q) = %v", c.addr, c.token, err)
		}
	}
}

// BenchmarkPredict measures end-to-end predict requests (HTTP, JSON, one
// instance) against a local httptest server.
func BenchmarkPredict(b *testing.B) {
	f := setup(b, server.Config{})
	body := `{"instances": [{"x0": 1, "x1": 0.5}]}`
	if code, _ := f.do(b, "POST", "/v1/models/fraud:predict", body); code != 200 {
		b.Fatal(code)
	}
	client := f.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(f.srv.URL+"/v1/models/fraud:predict", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.StatusCode)
			}
		}
	})
}

// BenchmarkPredictBatch measures requests of 100 named instances.
func BenchmarkPredictBatch(b *testing.B) {
	f := setup(b, server.Config{})
	body := `{"instances": [` + strings.Repeat(`{"x0": 1.25, "x1": -0.5},`, 99) + `{"x0": 1, "x1": 0.5}]}`
	client := f.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(f.srv.URL+"/v1/models/fraud:predict", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "predictions/s")
}

// TestPredictLabels: for a classifier the response adds "labels", the
// predicted class of each instance as trained (here strings) when the
// version records its labels, else the class number; "predictions" is
// unchanged, and a regressor gets no labels.
func TestPredictLabels(t *testing.T) {
	f := setup(t, server.Config{})
	ctx := context.Background()
	a, _ := ml.Lookup("naive_bayes")
	nb, err := a.New(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var X []ml.Vector
	var y []float64
	for i := range 60 {
		X = append(X, ml.Dense([]float64{float64(10*(i%3)) + float64(i%5)*0.1}))
		y = append(y, float64(i%3))
	}
	if err := nb.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	m := registry.VersionMeta{Features: []string{"x"}, Label: "level",
		Labels: &registry.Labels{Type: "string", Values: []any{"low", "mid", "high"}}}
	if _, err := f.reg.Publish(ctx, "levels", nb, m); err != nil {
		t.Fatal(err)
	}
	old := m
	old.Labels = nil // as published before labels were recorded
	if _, err := f.reg.Publish(ctx, "levels", nb, old); err != nil {
		t.Fatal(err)
	}
	body := `{"instances": [{"x": 0.2}, [20.1], {"x": 9.9}]}`
	code, out := f.do(t, "POST", "/v1/models/levels/versions/1:predict", body)
	if code != 200 {
		t.Fatalf("v1: %d %v", code, out)
	}
	if got := fmt.Sprint(out["labels"]); got != "[low high mid]" {
		t.Fatalf("v1 labels %s, want [low high mid] (response %v)", got, out)
	}
	for i, x := range []float64{0.2, 20.1, 9.9} {
		if got, want := out["predictions"].([]any)[i].(float64), nb.Predict(ml.Dense([]float64{x})); got != want {
			t.Fatalf("prediction %d = %v, want %v", i, got, want)
		}
	}
	code, out = f.do(t, "POST", "/v1/models/levels:predict", body) // v2 serves: no labels recorded
	if code != 200 || out["model_version"].(float64) != 2 || fmt.Sprint(out["labels"]) != "[0 2 1]" {
		t.Fatalf("v2: %d %v, want labels [0 2 1]", code, out)
	}
	// The binary logistic regression of setup has no labels: class numbers.
	code, out = f.do(t, "POST", "/v1/models/fraud:predict", `{"instances": [[1, 0.5], [-1, -1]]}`)
	if code != 200 || fmt.Sprint(out["labels"]) != "[1 0]" {
		t.Fatalf("fraud: %d %v, want labels [1 0]", code, out)
	}
	// A regressor has no labels field.
	a, _ = ml.Lookup("linear_regression")
	lr, _ := a.New(nil, 1)
	if err := lr.Fit([]ml.Vector{ml.Dense([]float64{0}), ml.Dense([]float64{1}), ml.Dense([]float64{2})}, []float64{1, 3, 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Publish(ctx, "price", lr, registry.VersionMeta{Features: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	code, out = f.do(t, "POST", "/v1/models/price:predict", `{"instances": [[3]]}`)
	if _, has := out["labels"]; code != 200 || has {
		t.Fatalf("price: %d %v, want no labels", code, out)
	}
	// GET /v1/models/{name} shows each version's labels.
	code, out = f.do(t, "GET", "/v1/models/levels", "")
	vs := out["versions"].([]any)
	if code != 200 || fmt.Sprint(vs[0].(map[string]any)["labels"]) != "map[type:string values:[low mid high]]" || vs[1].(map[string]any)["labels"] != nil {
		t.Fatalf("get levels: %d %v", code, out)
	}
}
