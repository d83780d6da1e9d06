package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
)

// DefaultMaxBody is the default cap on a request body (1 MiB).
const DefaultMaxBody = 1 << 20

// DefaultMaxInstances is the default cap on instances per predict request.
const DefaultMaxInstances = 10000

// ErrTokenRequired is returned by CheckAddr for a non-loopback address
// without a token.
var ErrTokenRequired = errors.New("server: a token is required to listen on a non-loopback address")

// Config configures a ModelAPI.
type Config struct {
	// Token, when set, must be sent as "Authorization: Bearer <token>" on
	// every request except /livez and /readyz.
	Token string
	// MaxBody caps request bodies in bytes (DefaultMaxBody if 0).
	MaxBody int64
	// MaxInstances caps instances per predict request (DefaultMaxInstances if 0).
	MaxInstances int
	// LoadTimeout bounds the wait for a model's first version (5s if 0).
	LoadTimeout time.Duration
	// Ready reports whether the registry's connection is usable (/readyz).
	Ready func() error
	// Logger, slog.Default() if nil.
	Logger *slog.Logger
}

// ModelAPI is the prediction API over a model registry (the KServe v1
// shape):
//
//	GET  /v1/models                 the models and the versions serving
//	GET  /v1/models/{name}          one model's index entry
//	POST /v1/models/{name}:predict  {"instances": [{"f1": 1.5, ...}, ...]} or [[1.5, ...], ...]
//	                                → {"predictions": [...], "labels": [...], "model_version": N}
//	                                  (labels: classifiers only, the predicted class's label)
//	POST /v1/models/{name}/versions/{v}:predict   the same, scored by version v
//	GET  /livez, /readyz, /metrics
//
// Each model is served from a registry.Handle, so a promotion is picked up
// without a restart and a request is scored by exactly one version. Errors
// are JSON {"error": "..."} with status 400, 401, 404, 405, 413 or 503.
// ModelAPI is an http.Handler, safe for concurrent use.
type ModelAPI struct {
	reg     *registry.Registry
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	token   [32]byte

	mu      sync.Mutex
	handles map[string]*registry.Handle
	pinned  map[string]*registry.Loaded // "name/version" → loaded
}

var _ http.Handler = (*ModelAPI)(nil)

// NewModelAPI returns the prediction API over reg.
func NewModelAPI(reg *registry.Registry, cfg Config) *ModelAPI {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxInstances <= 0 {
		cfg.MaxInstances = DefaultMaxInstances
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = 5 * time.Second
	}
	a := &ModelAPI{reg: reg, cfg: cfg, log: cfg.Logger, metrics: newMetrics(), handles: map[string]*registry.Handle{}, pinned: map[string]*registry.Loaded{}}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.token = sha256.Sum256([]byte(cfg.Token))
	return a
}

// Close stops following the models.
func (a *ModelAPI) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for n, h := range a.handles {
		h.Close()
		delete(a.handles, n)
	}
}

// CheckAddr refuses a listen address that is not loopback when token is
// empty (DESIGN §9).
func CheckAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("server: address %q: %w", addr, err)
	}
	if token != "" || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w (%q): pass --token or set FLOWRUN_TOKEN", ErrTokenRequired, addr)
}

// apiError is an error with an HTTP status.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, map[string]string{"error": e.msg})
}

// authorized compares the bearer token in constant time (over SHA-256
// digests, so that the length does not leak either).
func (a *ModelAPI) authorized(r *http.Request) bool {
	if a.cfg.Token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], a.token[:]) == 1
}

// ServeHTTP routes a request.
func (a *ModelAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case "/livez":
		if !method(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case "/readyz":
		if !method(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		if a.cfg.Ready != nil {
			if err := a.cfg.Ready(); err != nil {
				writeError(w, errorf(http.StatusServiceUnavailable, "not ready: %v", err))
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowrun"`)
		writeError(w, errorf(http.StatusUnauthorized, "missing or wrong bearer token (send Authorization: Bearer <token>)"))
		return
	}
	switch {
	case path == "/metrics":
		if method(w, r, http.MethodGet) {
			a.serveMetrics(w)
		}
	case path == "/v1/models" || path == "/v1/models/":
		if method(w, r, http.MethodGet) {
			a.serveList(w, r)
		}
	case strings.HasPrefix(path, "/v1/models/"):
		rest := strings.TrimPrefix(path, "/v1/models/")
		if target, ok := strings.CutSuffix(rest, ":predict"); ok {
			if method(w, r, http.MethodPost) {
				name, ver, _ := strings.Cut(target, "/versions/")
				a.servePredict(w, r, name, ver)
			}
			return
		}
		if method(w, r, http.MethodGet) {
			a.serveModel(w, r, rest)
		}
	default:
		writeError(w, errorf(http.StatusNotFound, "no route %s (see GET /v1/models)", path))
	}
}

func method(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
	return false
}

// handle returns the Handle of a registered model, creating it on first
// use, and waits for its first version.
func (a *ModelAPI) handle(ctx context.Context, name string) (*registry.Loaded, *apiError) {
	a.mu.Lock()
	h := a.handles[name]
	a.mu.Unlock()
	if h == nil {
		if err := registry.CheckName(name); err != nil {
			return nil, errorf(http.StatusNotFound, "model %q not found: %v", name, err)
		}
		if _, err := a.reg.Get(ctx, name); err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				return nil, errorf(http.StatusNotFound, "model %q not found (see GET /v1/models)", name)
			}
			return nil, errorf(http.StatusServiceUnavailable, "registry: %v", err)
		}
		a.mu.Lock()
		if h = a.handles[name]; h == nil {
			h = a.reg.Handle(name)
			a.handles[name] = h
		}
		a.mu.Unlock()
	}
	if l := h.Current(); l != nil {
		return l, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.LoadTimeout)
	defer cancel()
	l, err := h.Wait(ctx)
	if err != nil {
		return nil, errorf(http.StatusServiceUnavailable, "model %q has no loadable version: %v", name, err)
	}
	return l, nil
}

// maxPinned bounds the cache of explicitly requested versions.
const maxPinned = 32

// version returns a specific version of a model (for
// /v1/models/{name}/versions/{v}:predict), from a small cache: a stored
// version never changes.
func (a *ModelAPI) version(ctx context.Context, name, version string) (*registry.Loaded, *apiError) {
	v, err := strconv.Atoi(strings.TrimPrefix(version, "v"))
	if err != nil || v < 1 {
		return nil, errorf(http.StatusNotFound, "model %q version %q not found: versions are positive numbers", name, version)
	}
	key := name + "/" + strconv.Itoa(v)
	a.mu.Lock()
	l := a.pinned[key]
	a.mu.Unlock()
	if l != nil {
		return l, nil
	}
	l, err = a.reg.Load(ctx, name, v)
	switch {
	case errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrInvalidName):
		return nil, errorf(http.StatusNotFound, "model %q not found (see GET /v1/models)", name)
	case errors.Is(err, registry.ErrVersionNotFound):
		return nil, errorf(http.StatusNotFound, "model %q has no version %d (see GET /v1/models/%s)", name, v, name)
	case err != nil:
		return nil, errorf(http.StatusServiceUnavailable, "model %q version %d cannot be loaded: %v", name, v, err)
	}
	a.mu.Lock()
	if len(a.pinned) >= maxPinned {
		for k := range a.pinned { // evict one at random
			delete(a.pinned, k)
			break
		}
	}
	a.pinned[key] = l
	a.mu.Unlock()
	return l, nil
}

type predictRequest struct {
	Instances []json.RawMessage `json:"instances"`
}

type predictResponse struct {
	Predictions []jsonFloat `json:"predictions"`
	// Labels, for classifiers only, is the predicted class of each
	// instance: its label as trained (a string, integer or boolean) when
	// the version records its labels, else the class number.
	Labels       []any  `json:"labels,omitempty"`
	ModelName    string `json:"model_name"`
	ModelVersion int    `json:"model_version"`
}

// jsonFloat encodes NaN and ±Inf as null.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

func (a *ModelAPI) servePredict(w http.ResponseWriter, r *http.Request, name, version string) {
	start := time.Now()
	code, n, label := http.StatusOK, 0, ""
	defer func() { a.metrics.observe(label, code, time.Since(start), n) }()

	var l *registry.Loaded
	var aerr *apiError
	if version == "" {
		l, aerr = a.handle(r.Context(), name)
	} else {
		l, aerr = a.version(r.Context(), name, version)
	}
	if aerr != nil {
		code = aerr.code
		writeError(w, aerr)
		return
	}
	label = name
	X, aerr := a.decode(w, r, l)
	if aerr != nil {
		code = aerr.code
		writeError(w, aerr)
		return
	}
	resp := predictResponse{Predictions: make([]jsonFloat, len(X)), ModelName: name, ModelVersion: l.Version}
	classifier := false
	if a, ok := ml.Lookup(l.Meta.Algorithm); ok && a.Kind == ml.KindClassifier {
		resp.Labels, classifier = make([]any, len(X)), true
	}
	l.With(func(m ml.Model) {
		cl, _ := m.(ml.Classifier)
		for i, x := range X {
			resp.Predictions[i] = jsonFloat(m.Predict(x))
			if classifier && cl != nil {
				resp.Labels[i] = classLabel(cl.PredictLabel(x), l.Meta.Labels)
			}
		}
	})
	n = len(X)
	writeJSON(w, http.StatusOK, resp)
}

// classLabel is the label of class c in a predict response: the version's
// label of c when it has one, else the class number (null when not finite).
func classLabel(c float64, labels *registry.Labels) any {
	if v, ok := labels.Label(c); ok {
		return v
	}
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return nil
	}
	if c == math.Trunc(c) && math.Abs(c) < 1<<53 {
		return int64(c)
	}
	return c
}

// decode reads the request body into one vector per instance, in the
// order of the version's feature list.
func (a *ModelAPI) decode(w http.ResponseWriter, r *http.Request, l *registry.Loaded) ([]ml.Vector, *apiError) {
	body := http.MaxBytesReader(w, r.Body, a.cfg.MaxBody)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes (raise it with serve --max-body)", a.cfg.MaxBody)
		}
		return nil, errorf(http.StatusBadRequest, "read body: %v", err)
	}
	var req predictRequest
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, errorf(http.StatusBadRequest, "bad JSON: %v (want {\"instances\": [...]})", err)
	}
	if dec.More() {
		return nil, errorf(http.StatusBadRequest, "bad JSON: data after the request object")
	}
	if req.Instances == nil {
		return nil, errorf(http.StatusBadRequest, `missing "instances" (want {"instances": [{"feature": value, ...}, ...]})`)
	}
	if len(req.Instances) > a.cfg.MaxInstances {
		return nil, errorf(http.StatusRequestEntityTooLarge, "%d instances, more than the limit of %d", len(req.Instances), a.cfg.MaxInstances)
	}
	feats := l.Meta.Features
	if len(feats) == 0 {
		return nil, errorf(http.StatusBadRequest, "model %q version %d has no feature list in its metadata; it cannot be served by name", l.Name, l.Version)
	}
	index := make(map[string]int, len(feats))
	for i, f := range feats {
		index[f] = i
	}
	vals := make([]float64, len(req.Instances)*len(feats))
	X := make([]ml.Vector, len(req.Instances))
	for i, raw := range req.Instances {
		x := vals[i*len(feats) : (i+1)*len(feats) : (i+1)*len(feats)]
		X[i] = ml.Dense(x)
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '{' && fastObject(raw, index, x):
			// flat object of numbers and booleans with every feature
		case len(raw) > 0 && raw[0] == '{':
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				return nil, errorf(http.StatusBadRequest, "instance %d: %v", i, err)
			}
			for j, f := range feats {
				v, ok := obj[f]
				if !ok {
					return nil, errorf(http.StatusBadRequest, "instance %d: missing feature %q (model %q version %d expects %s)", i, f, l.Name, l.Version, strings.Join(feats, ", "))
				}
				fv, err := number(v)
				if err != nil {
					return nil, errorf(http.StatusBadRequest, "instance %d: feature %q: %v", i, f, err)
				}
				x[j] = fv
			}
		case len(raw) > 0 && raw[0] == '[':
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return nil, errorf(http.StatusBadRequest, "instance %d: %v", i, err)
			}
			if len(arr) != len(feats) {
				return nil, errorf(http.StatusBadRequest, "instance %d: %d values, model %q version %d expects %d (%s)", i, len(arr), l.Name, l.Version, len(feats), strings.Join(feats, ", "))
			}
			for j, v := range arr {
				fv, err := number(v)
				if err != nil {
					return nil, errorf(http.StatusBadRequest, "instance %d: feature %q: %v", i, feats[j], err)
				}
				x[j] = fv
			}
		default:
			return nil, errorf(http.StatusBadRequest, "instance %d: want an object of feature values or an array, got %s", i, kind(raw))
		}
	}
	return X, nil
}

// number converts a JSON number or boolean (1/0) to a float64.
func number(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return 0, fmt.Errorf("bad number %s", raw)
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %s", kind(raw))
}

func kind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string " + truncate(string(raw), 40)
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return truncate(string(raw), 40)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// modelSummary is one model in GET /v1/models.
type modelSummary struct {
	Name           string   `json:"name"`
	Versions       int      `json:"versions"`
	CurrentVersion int      `json:"current_version,omitempty"`
	Champion       int      `json:"champion,omitempty"`
	Algorithm      string   `json:"algorithm,omitempty"`
	Features       []string `json:"features,omitempty"`
}

func summarize(e *registry.Entry) modelSummary {
	s := modelSummary{Name: e.Name, Versions: len(e.Ready()), Champion: e.Aliases[registry.Champion]}
	if c := e.Current(); c != nil {
		s.CurrentVersion, s.Algorithm, s.Features = c.Version, c.Algorithm, c.Features
	}
	return s
}

func (a *ModelAPI) serveList(w http.ResponseWriter, r *http.Request) {
	es, err := a.reg.List(r.Context())
	if err != nil {
		writeError(w, errorf(http.StatusServiceUnavailable, "registry: %v", err))
		return
	}
	out := make([]modelSummary, len(es))
	for i, e := range es {
		out[i] = summarize(e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (a *ModelAPI) serveModel(w http.ResponseWriter, r *http.Request, name string) {
	if err := registry.CheckName(name); err != nil {
		writeError(w, errorf(http.StatusNotFound, "model %q not found: %v", name, err))
		return
	}
	e, err := a.reg.Get(r.Context(), name)
	if errors.Is(err, registry.ErrNotFound) {
		writeError(w, errorf(http.StatusNotFound, "model %q not found (see GET /v1/models)", name))
		return
	}
	if err != nil {
		writeError(w, errorf(http.StatusServiceUnavailable, "registry: %v", err))
		return
	}
	// KServe v1 readiness: the model is ready when a version is loaded
	// (this starts following the model if nothing did yet).
	serving, ready, why := 0, false, ""
	if l, aerr := a.handle(r.Context(), name); aerr == nil {
		serving, ready = l.Version, true
	} else {
		why = aerr.msg
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": e.Name, "ready": ready, "not_ready_reason": why, "summary": summarize(e), "serving_version": serving,
		"versions": e.Ready(), "aliases": e.Aliases, "events": e.Events,
	})
}

func (a *ModelAPI) serveMetrics(w http.ResponseWriter) {
	version := map[string]float64{}
	refused := map[string]float64{}
	a.mu.Lock()
	for n, h := range a.handles {
		if l := h.Current(); l != nil {
			version[n] = float64(l.Version)
		}
		refused[n] = float64(h.Refused())
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	a.metrics.write(w, []gauge{
		{name: "flowrun_serve_model_version", typ: "gauge", help: "Version of each model serving now.", values: version},
		{name: "flowrun_serve_model_refused_total", typ: "counter", help: "Versions refused (corrupt or incompatible) since start.", values: refused},
	})
}

// fastObject fills x from a flat JSON object whose keys have no escapes
// and whose values are numbers or booleans, without allocating. It reports
// false, leaving the precise error to the general path, for anything else
// or when a feature is missing. raw is a valid JSON value (checked by the
// request decoder). Later duplicates win, as with encoding/json.
func fastObject(raw []byte, index map[string]int, x []float64) bool {
	const maxFast = 64
	if len(x) > maxFast {
		return false
	}
	var seen uint64
	i := 1
	skip := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	for {
		skip()
		if i >= len(raw) {
			return false
		}
		if raw[i] == '}' {
			break
		}
		if raw[i] != '"' {
			return false
		}
		start := i + 1
		for i = start; i < len(raw) && raw[i] != '"'; i++ {
			if raw[i] == '\\' {
				return false
			}
		}
		if i >= len(raw) {
			return false
		}
		key := raw[start:i]
		i++
		skip()
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i++
		skip()
		vstart := i
		for i < len(raw) && raw[i] != ',' && raw[i] != '}' && raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r' {
			i++
		}
		val := raw[vstart:i]
		if j, ok := index[string(key)]; ok {
			switch {
			case string(val) == "true":
				x[j] = 1
			case string(val) == "false":
				x[j] = 0
			case len(val) > 0 && (val[0] == '-' || (val[0] >= '0' && val[0] <= '9')):
				f, err := strconv.ParseFloat(string(val), 64)
				if err != nil {
					return false
				}
				x[j] = f
			default:
				return false
			}
			seen |= 1 << j
		} else if len(val) == 0 || val[0] == '"' || val[0] == '{' || val[0] == '[' {
			return false // a string, object or array value: let the general path skip it
		}
		skip()
		if i < len(raw) && raw[i] == ',' {
			i++
		}
	}
	return seen == 1<<len(x)-1 || (len(x) == maxFast && seen == ^uint64(0))
}
