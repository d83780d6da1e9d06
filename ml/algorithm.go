package ml

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Kind is what an algorithm does with its input.
type Kind string

// The kinds of algorithm.
const (
	KindClassifier  Kind = "classifier"
	KindRegressor   Kind = "regressor"
	KindClusterer   Kind = "clusterer"
	KindAnomaly     Kind = "anomaly"
	KindDrift       Kind = "drift"
	KindRecommender Kind = "recommender"
)

// The training modes an algorithm may support.
const (
	ModeOnline   = "online"   // Learn on every example
	ModeBatch    = "batch"    // Fit on a bounded data set
	ModeWindowed = "windowed" // Fit again on each tumbling window
)

// The value types of a Param.
const (
	TypeFloat  = "float"
	TypeInt    = "int"
	TypeBool   = "bool"
	TypeString = "string"
	// TypeStrings is a list of strings; Enum, when set, constrains each
	// element. Used by transforms (e.g. window stats), not by algorithms.
	TypeStrings = "[]string"
)

// Param describes one hyper-parameter of an Algorithm: its name as written
// in a job file, its type ("float", "int", "bool" or "string"), its
// default, an optional inclusive range (Min, Max) for numbers, an optional
// set of allowed values for strings, and a one-sentence doc string.
type Param struct {
	Name    string
	Type    string
	Default any
	Min     *float64
	Max     *float64
	Enum    []string
	Doc     string
}

// Algorithm is one entry of the Algorithms table: a named learning
// algorithm, its kind, the training modes it supports and its
// hyper-parameters. The planner validates a job's hyper-parameters with
// Validate; the executor builds models with New; docs/ml-reference.md is
// generated from the table.
type Algorithm struct {
	Name   string
	Kind   Kind
	Doc    string
	Modes  []string
	Params []Param

	build func(b base) (Model, error)
}

// ParamError is one problem with one hyper-parameter. Param is the key as
// written in the job file, so that the caller can report the error at the
// position of that key.
type ParamError struct {
	Param string
	Msg   string
}

func (e ParamError) Error() string { return e.Param + ": " + e.Msg }

// ErrInvalidParams is returned (wrapped) by Algorithm.New when Validate
// finds problems.
var ErrInvalidParams = errors.New("ml: invalid hyper-parameters")

// ErrUnknownAlgorithm is returned (wrapped) when an algorithm name is not
// in the Algorithms table.
var ErrUnknownAlgorithm = errors.New("ml: unknown algorithm")

// Lookup returns the algorithm with the given name.
func Lookup(name string) (*Algorithm, bool) {
	i := sort.Search(len(Algorithms), func(i int) bool { return Algorithms[i].Name >= name })
	if i < len(Algorithms) && Algorithms[i].Name == name {
		return Algorithms[i], true
	}
	return nil, false
}

// Names returns the names of all algorithms, sorted.
func Names() []string {
	out := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		out[i] = a.Name
	}
	return out
}

// Param returns the hyper-parameter with the given name.
func (a *Algorithm) Param(name string) (*Param, bool) {
	for i := range a.Params {
		if a.Params[i].Name == name {
			return &a.Params[i], true
		}
	}
	return nil, false
}

// SupportsMode reports whether a lists mode in Modes.
func (a *Algorithm) SupportsMode(mode string) bool {
	for _, m := range a.Modes {
		if m == mode {
			return true
		}
	}
	return false
}

// Validate checks params against the table and returns every problem, in
// the order of the sorted parameter names: unknown parameters (with a
// did-you-mean suggestion), wrong types, values out of range and values not
// in the enum. Integers are accepted for float parameters, and floats with
// an integral value for int parameters (JSON numbers decode as float64).
func (a *Algorithm) Validate(params map[string]any) []ParamError {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []ParamError
	for _, k := range keys {
		p, ok := a.Param(k)
		if !ok {
			msg := fmt.Sprintf("unknown hyper-parameter %q of %s", k, a.Name)
			if s := a.suggest(k); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known: " + strings.Join(a.paramNames(), ", ") + ")"
			}
			errs = append(errs, ParamError{Param: k, Msg: msg})
			continue
		}
		if _, err := p.normalize(params[k]); err != nil {
			errs = append(errs, ParamError{Param: k, Msg: err.Error()})
		}
	}
	return errs
}

// New validates params, fills in defaults and returns a new untrained
// model. Models are deterministic for a given seed.
func (a *Algorithm) New(params map[string]any, seed int64) (Model, error) {
	p, err := a.resolve(params)
	if err != nil {
		return nil, err
	}
	return a.build(base{algo: a.Name, p: p, seed: seed})
}

// Defaults returns the default hyper-parameters.
func (a *Algorithm) Defaults() Params {
	p := make(Params, len(a.Params))
	for _, q := range a.Params {
		p[q.Name] = q.Default
	}
	return p
}

func (a *Algorithm) resolve(params map[string]any) (Params, error) {
	if errs := a.Validate(params); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("%w for %s: %s", ErrInvalidParams, a.Name, strings.Join(msgs, "; "))
	}
	p := a.Defaults()
	for k, v := range params {
		q, _ := a.Param(k)
		p[k], _ = q.normalize(v)
	}
	return p, nil
}

func (a *Algorithm) paramNames() []string {
	out := make([]string, len(a.Params))
	for i, p := range a.Params {
		out[i] = p.Name
	}
	return out
}

func (a *Algorithm) suggest(k string) string {
	best, bestD := "", 1<<30
	for _, p := range a.Params {
		d := levenshtein(strings.ToLower(k), p.Name)
		if d < bestD {
			best, bestD = p.Name, d
		}
	}
	if bestD <= 2 || (bestD <= len(k)/2 && bestD <= 4) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// normalize converts v to the parameter's Go type (float64, int, bool or
// string) and checks range and enum.
func (p *Param) normalize(v any) (any, error) {
	switch p.Type {
	case TypeFloat:
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("must be a number, got %s", describe(v))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be finite, got %v", f)
		}
		if err := p.checkRange(f); err != nil {
			return nil, err
		}
		return f, nil
	case TypeInt:
		f, ok := toFloat(v)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("must be an integer, got %s", describe(v))
		}
		if err := p.checkRange(f); err != nil {
			return nil, err
		}
		return int(f), nil
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true or false, got %s", describe(v))
		}
		return b, nil
	case TypeStrings:
		var out []string
		switch x := v.(type) {
		case []string:
			out = append(out, x...)
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("must be a list of strings, got element %s", describe(e))
				}
				out = append(out, s)
			}
		default:
			return nil, fmt.Errorf("must be a list of strings, got %s", describe(v))
		}
		for _, s := range out {
			if len(p.Enum) > 0 && !contains(p.Enum, s) {
				return nil, fmt.Errorf("element %q must be one of %s", s, strings.Join(p.Enum, ", "))
			}
		}
		return out, nil
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, got %s", describe(v))
		}
		if len(p.Enum) > 0 {
			for _, e := range p.Enum {
				if e == s {
					return s, nil
				}
			}
			return nil, fmt.Errorf("must be one of %s, got %q", strings.Join(p.Enum, ", "), s)
		}
		return s, nil
	}
	panic("ml: bad param type " + p.Type)
}

func (p *Param) checkRange(f float64) error {
	switch {
	case p.Min != nil && p.Max != nil && (f < *p.Min || f > *p.Max):
		return fmt.Errorf("must be between %v and %v, got %v", *p.Min, *p.Max, f)
	case p.Min != nil && f < *p.Min:
		return fmt.Errorf("must be at least %v, got %v", *p.Min, f)
	case p.Max != nil && f > *p.Max:
		return fmt.Errorf("must be at most %v, got %v", *p.Max, f)
	}
	return nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", v)
	case bool:
		return fmt.Sprintf("bool %v", v)
	}
	return fmt.Sprintf("%T %v", v, v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// Params holds resolved hyper-parameters: every parameter of the
// algorithm, with values of the parameter's Go type (float64, int, bool or
// string).
type Params map[string]any

// Float returns a float parameter.
func (p Params) Float(name string) float64 {
	f, _ := toFloat(p[name])
	return f
}

// Int returns an int parameter.
func (p Params) Int(name string) int {
	f, _ := toFloat(p[name])
	return int(f)
}

// Bool returns a bool parameter.
func (p Params) Bool(name string) bool { b, _ := p[name].(bool); return b }

// String returns a string parameter.
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

func (p Params) clone() Params {
	c := make(Params, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

func ptr(f float64) *float64 { return &f }

// Shared hyper-parameter descriptions.
func paramStandardize() Param {
	return Param{Name: "standardize", Type: TypeBool, Default: true,
		Doc: "Standardize dense numeric inputs to zero mean and unit variance (statistics learned with the model and saved in it); sparse inputs are used as given."}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// validateParams checks params against specs (see Algorithm.Validate).
func validateParams(owner string, specs []Param, params map[string]any) []ParamError {
	a := &Algorithm{Name: owner, Params: specs}
	return a.Validate(params)
}
