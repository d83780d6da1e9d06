package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/server"
)

// FuzzPredict feeds arbitrary bodies to the predict endpoint: the answer
// is 200 with one prediction per instance, or a JSON error with 400/413,
// never a panic or a 5xx.
func FuzzPredict(f *testing.F) {
	for _, s := range []string{
		`{"instances": [{"x0": 1, "x1": 0.5}]}`,
		`{"instances": [[1, 2], [3, true]]}`,
		`{"instances": []}`,
		`{"instances": [{"x0": "a"}]}`,
		`{"instances": [1e999]}`,
		`{"instances": [[1e400, -0]]}`,
		`{"instances": null}`,
		`[]`, `{`, ``, `{"instances": [{"x0": 1, "x1": 2, "x0": 3}]}`,
	} {
		f.Add(s)
	}
	fx := setup(f, server.Config{MaxBody: 1 << 14})
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/models/fraud:predict", strings.NewReader(body))
		rec := httptest.NewRecorder()
		fx.api.ServeHTTP(rec, req)
		var out struct {
			Predictions []*float64 `json:"predictions"`
			Error       string     `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d: not JSON: %q", rec.Code, rec.Body.String())
		}
		switch rec.Code {
		case 200:
			var req struct{ Instances []json.RawMessage }
			if json.Unmarshal([]byte(body), &req) == nil && len(out.Predictions) != len(req.Instances) {
				t.Fatalf("%d predictions for %d instances", len(out.Predictions), len(req.Instances))
			}
		case 400, 413:
			if out.Error == "" {
				t.Fatalf("%d without an error message", rec.Code)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
