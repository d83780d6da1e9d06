package mlops

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// Features runs a features: stage (planner.FeaturesOp): each transform in
// order adds (or replaces) columns of the row, with the layout the planner
// computed for the node (node.Schema): onehot, hash, tfidf and window
// produce a vector column, scale a double per input. Transforms learn
// online and transform after learning the row, so a row's own category,
// terms and value count:
//
//   - onehot: ml.OneHot over the value's text (categories: fixed when
//     listed, else learned in order of appearance up to maxCategories,
//     default 64); width maxCategories+1, the last slot is "other"; NULL
//     gives the zero vector.
//   - hash: ml.Hasher of "name=value" of the inputs into dims (1024)
//     unsigned slots.
//   - scale: per input, standard z = (x − μ)/σ with running statistics, or
//     minmax (x − min)/(max − min); NULL stays NULL.
//   - tfidf: ml.TFIDF over dims (65536) hashed slots and n-grams up to
//     ngrams; document frequencies learned online; L2-normalized.
//   - window: per key, ml.Window over the last size (32) values (with
//     duration, only those within the duration of event time before the
//     row): stats (default mean, std, min, max), lags, FFT magnitudes
//     (gonum dsp/fourier).
//
// Vectors are dense (udf vector values): keep dims moderate (2^12–2^14)
// for tfidf and hash; the model side turns mostly-zero vectors back into
// sparse ml.Vectors.
type Features struct {
	in, out planner.Schema
	steps   []featStep
	keyBuf  []byte
}

var _ executor.Operator = (*Features)(nil)

type featStep struct {
	kind string
	ins  []int
	outs []int
	name []string // hash feature names

	OneHot  *ml.OneHot            `json:"onehot,omitempty"`
	Hasher  *ml.Hasher            `json:"hasher,omitempty"`
	Std     []*ml.StandardScaler  `json:"std,omitempty"`
	MinMax  []*ml.MinMaxScaler    `json:"minmax,omitempty"`
	TFIDF   *ml.TFIDF             `json:"tfidf,omitempty"`
	Windows map[string]*ml.Window `json:"windows,omitempty"`
	Spans   map[string]*span      `json:"spans,omitempty"` // duration windows
	win     *spec.WindowFeature
	durMs   int64
	et      int
	scratch *ml.Window
	fixed   bool
	vals    []string
	buf     []float64
}

// NewFeatures builds the operator of a FeaturesOp node whose output schema
// is out (node.Schema).
func NewFeatures(op *planner.FeaturesOp, out planner.Schema) (*Features, error) {
	o := &Features{in: op.Input, out: out}
	// Later transforms see earlier outputs: names are looked up in out,
	// which keeps the input columns in place.
	col := func(name string) (int, error) {
		i := index(out, name)[0]
		if i < 0 {
			return -1, fmt.Errorf("mlops: features: unknown column %q", name)
		}
		return i, nil
	}
	cols := func(names ...string) ([]int, error) {
		var out []int
		for _, n := range names {
			i, err := col(n)
			if err != nil {
				return nil, err
			}
			out = append(out, i)
		}
		return out, nil
	}
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	for _, f := range op.Spec {
		var s featStep
		var err error
		switch {
		case f.OneHot != nil:
			s.kind = "onehot"
			if s.ins, err = cols(f.OneHot.Input); err != nil {
				return nil, err
			}
			s.outs, err = cols(or(f.OneHot.Output, f.OneHot.Input))
			n := f.OneHot.MaxCategories
			if n <= 0 {
				n = 64
			}
			if len(f.OneHot.Categories) > 0 {
				if f.OneHot.MaxCategories <= 0 {
					n = len(f.OneHot.Categories)
				}
				s.fixed = true
			}
			s.OneHot = ml.NewOneHot(n)
			for _, c := range f.OneHot.Categories {
				s.OneHot.Learn(c)
			}
		case f.Hash != nil:
			s.kind = "hash"
			if s.ins, err = cols(f.Hash.Inputs...); err != nil {
				return nil, err
			}
			s.name = f.Hash.Inputs
			s.outs, err = cols(f.Hash.Output)
			d := f.Hash.Dims
			if d <= 0 {
				d = 1024
			}
			s.Hasher = ml.NewHasher(d, false)
		case f.Scale != nil:
			s.kind = "scale"
			if s.ins, err = cols(f.Scale.Inputs...); err != nil {
				return nil, err
			}
			var outs []string
			for i, x := range f.Scale.Inputs {
				n := x
				if i < len(f.Scale.Outputs) && f.Scale.Outputs[i] != "" {
					n = f.Scale.Outputs[i]
				}
				outs = append(outs, n)
			}
			s.outs, err = cols(outs...)
			for range s.ins {
				switch f.Scale.Method {
				case "", "standard":
					s.Std = append(s.Std, &ml.StandardScaler{})
				case "minmax":
					s.MinMax = append(s.MinMax, &ml.MinMaxScaler{})
				default:
					return nil, fmt.Errorf("mlops: features: scale method %q (want standard or minmax)", f.Scale.Method)
				}
			}
		case f.TFIDF != nil:
			s.kind = "tfidf"
			if s.ins, err = cols(f.TFIDF.Input); err != nil {
				return nil, err
			}
			s.outs, err = cols(or(f.TFIDF.Output, f.TFIDF.Input))
			d := f.TFIDF.Dims
			if d <= 0 {
				d = 65536
			}
			s.TFIDF = ml.NewTFIDF(d, f.TFIDF.Ngrams)
		case f.Window != nil:
			s.kind = "window"
			w := f.Window
			if w.Duration > 0 {
				if op.Input.EventTime < 0 {
					return nil, fmt.Errorf("mlops: features: window over a duration needs an event-time column in the input")
				}
				s.durMs = w.Duration.Std().Milliseconds()
				s.et = op.Input.EventTime
				s.Spans = map[string]*span{}
			}
			if s.ins, err = cols(w.Input); err != nil {
				return nil, err
			}
			k, err := cols(w.Key...)
			if err != nil {
				return nil, err
			}
			s.ins = append(s.ins, k...) // ins[0] value, ins[1:] key
			s.outs, err = cols(or(w.Output, w.Input))
			wc := *w
			if wc.Size <= 0 {
				wc.Size = 32
			}
			if len(wc.Stats) == 0 {
				wc.Stats = []string{"mean", "std", "min", "max"}
			}
			if _, err := ml.NewWindow(wc.Size, wc.Stats, wc.Lags, wc.FFT); err != nil {
				return nil, fmt.Errorf("mlops: features: %w", err)
			}
			s.win = &wc
			s.Windows = map[string]*ml.Window{}
		default:
			return nil, fmt.Errorf("mlops: features: empty transform")
		}
		if err != nil {
			return nil, err
		}
		o.steps = append(o.steps, s)
	}
	return o, nil
}

// Process transforms the rows of b.
func (o *Features) Process(_ int, b *executor.Batch, out executor.Collector) error {
	for i, row := range b.Rows {
		if len(row) < len(o.out.Columns) {
			r := make(udf.Row, len(o.out.Columns))
			copy(r, row)
			row = r
		}
		for k := range o.steps {
			o.apply(&o.steps[k], row)
		}
		out.Emit(row, b.IDs[i])
	}
	return nil
}

func (o *Features) apply(s *featStep, row udf.Row) {
	switch s.kind {
	case "onehot":
		v := row[s.ins[0]]
		vec := make([]float64, s.OneHot.Dim())
		if v.K != udf.TypeNull {
			c := category(v)
			if !s.fixed {
				s.OneHot.Learn(c)
			}
			vec[s.OneHot.Index(c)] = 1
		}
		row[s.outs[0]] = udf.Vec(vec)
	case "hash":
		s.vals = s.vals[:0]
		names := s.name[:0:0]
		for j, c := range s.ins {
			if v := row[c]; v.K != udf.TypeNull {
				names = append(names, s.name[j])
				s.vals = append(s.vals, category(v))
			}
		}
		sv := s.Hasher.Transform(names, s.vals)
		row[s.outs[0]] = udf.Vec(dense(sv, s.Hasher.Dims))
	case "scale":
		for j, c := range s.ins {
			x := num(row[c])
			if math.IsNaN(x) {
				row[s.outs[j]] = udf.Null
				continue
			}
			s.buf = append(s.buf[:0], x)
			if s.Std != nil {
				s.Std[j].Learn(s.buf)
				s.buf = s.Std[j].Transform(s.buf, s.buf)
			} else {
				s.MinMax[j].Learn(s.buf)
				s.buf = s.MinMax[j].Transform(s.buf, s.buf)
			}
			row[s.outs[j]] = udf.Float(s.buf[0])
		}
	case "tfidf":
		v := row[s.ins[0]]
		text := ""
		if v.K != udf.TypeNull {
			text = category(v)
			s.TFIDF.Learn(text)
		}
		row[s.outs[0]] = udf.Vec(dense(s.TFIDF.Transform(text), s.TFIDF.Dims))
	case "window":
		o.keyBuf = keyOf(o.keyBuf[:0], row, s.ins[1:])
		if s.durMs > 0 {
			row[s.outs[0]] = udf.Vec(s.spanFeatures(string(o.keyBuf), row))
			return
		}
		w := s.Windows[string(o.keyBuf)]
		if w == nil {
			w, _ = ml.NewWindow(s.win.Size, s.win.Stats, s.win.Lags, s.win.FFT)
			s.Windows[string(o.keyBuf)] = w
		}
		if x := num(row[s.ins[0]]); !math.IsNaN(x) {
			w.Push(x)
		}
		row[s.outs[0]] = udf.Vec(w.Features(nil))
	}
}

// OnWatermark does nothing: transforms do not hold rows.
func (o *Features) OnWatermark(int64, executor.Collector) error { return nil }

// Snapshot returns the learned statistics of every transform as JSON.
func (o *Features) Snapshot() ([]byte, error) { return json.Marshal(o.steps) }

// Restore replaces the learned statistics with a snapshot of the same stage.
func (o *Features) Restore(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	st := make([]featStep, len(o.steps))
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("mlops: features: restore: %w", err)
	}
	if len(st) != len(o.steps) {
		return fmt.Errorf("mlops: features: restore: %d transforms, the stage has %d", len(st), len(o.steps))
	}
	for i := range st {
		s := &o.steps[i]
		switch {
		case st[i].OneHot != nil:
			s.OneHot = st[i].OneHot
			s.OneHot.Restore()
		case st[i].Std != nil:
			s.Std = st[i].Std
			for _, x := range s.Std {
				x.Restore()
			}
		case st[i].MinMax != nil:
			s.MinMax = st[i].MinMax
		case st[i].TFIDF != nil:
			s.TFIDF = st[i].TFIDF
		case st[i].Windows != nil:
			s.Windows = st[i].Windows
			if st[i].Spans != nil {
				s.Spans = st[i].Spans
			}
		}
	}
	return nil
}

// Close does nothing.
func (o *Features) Close(executor.Collector) error { return nil }

// dense returns v as a new dense slice of n elements.
func dense(v ml.Vector, n int) []float64 {
	out := make([]float64, n)
	if v.Idx == nil {
		copy(out, v.Val)
		return out
	}
	for k, i := range v.Idx {
		if int(i) < n {
			out[i] = v.Val[k]
		}
	}
	return out
}

// span holds the recent (event time, value) points of one key for a
// window over a duration, oldest first, at most size of them.
type span struct {
	T []int64   `json:"t"`
	V []float64 `json:"v"`
}

// spanFeatures adds the row's value to its key's span, forgets points
// older than the duration before the row's event time, and computes the
// window features over what is left (in time order, zero-padded to size
// for the FFT, as ml.Window does).
func (s *featStep) spanFeatures(key string, row udf.Row) []float64 {
	sp := s.Spans[key]
	if sp == nil {
		sp = &span{}
		s.Spans[key] = sp
	}
	t := row[s.et].I
	if x := num(row[s.ins[0]]); !math.IsNaN(x) {
		sp.T = append(sp.T, t)
		sp.V = append(sp.V, x)
	}
	drop := 0
	for drop < len(sp.T) && (sp.T[drop] <= t-s.durMs || len(sp.T)-drop > s.win.Size) {
		drop++
	}
	if drop > 0 {
		sp.T = append(sp.T[:0], sp.T[drop:]...)
		sp.V = append(sp.V[:0], sp.V[drop:]...)
	}
	if s.scratch == nil {
		s.scratch, _ = ml.NewWindow(s.win.Size, s.win.Stats, s.win.Lags, s.win.FFT)
	}
	w := s.scratch
	w.Pos, w.Filled = 0, 0
	for _, v := range sp.V {
		w.Push(v)
	}
	return w.Features(nil)
}
