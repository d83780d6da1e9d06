package ml

import (
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
)

// WindowStats lists the statistics a Window can compute.
var WindowStats = []string{"mean", "std", "min", "max", "slope", "sum", "count", "last"}

// Window computes time-series features over the last Size values of one
// series (one Window per key): the named statistics, Lags lagged values
// and the magnitudes of the first FFT discrete Fourier coefficients.
//
// Feature order: Stats in the given order, then lag_1..lag_Lags (lag_1 is
// the most recent value; 0 while the window is shorter), then
// fft_0..fft_{FFT−1} with
//
//	fft_k = |X_k| / n,  X_k = Σ_{t=0}^{n−1} x_t e^{−2πikt/n}
//
// over the window in time order (n = Size, zero-padded while filling;
// computed with gonum dsp/fourier). slope is the least-squares slope of the
// values against their position 0..n−1; std is the population deviation.
//
// A Window marshals to JSON ({"size":..,"values":[..oldest first]} and its
// settings); Push and Features do not allocate.
type Window struct {
	Size   int       `json:"size"`
	Stats  []string  `json:"stats"`
	Lags   int       `json:"lags"`
	FFT    int       `json:"fft"`
	Ring   []float64 `json:"ring"`
	Pos    int       `json:"pos"`
	Filled int       `json:"filled"`
	// MaxAge, when positive, also bounds the window by time: PushAt drops
	// values older than t − MaxAge (t in any unit, e.g. epoch ms). Size
	// stays the capacity and the FFT length.
	MaxAge float64   `json:"max_age,omitempty"`
	Times  []float64 `json:"times,omitempty"`

	fft    *fourier.FFT
	seq    []float64
	coeffs []complex128
}

// NewWindow returns a window of size values computing stats (from
// WindowStats), lags lags and fft FFT magnitudes (fft ≤ size/2+1).
func NewWindow(size int, stats []string, lags, fft int) (*Window, error) {
	if size < 1 {
		return nil, fmt.Errorf("ml: window size must be positive, got %d", size)
	}
	for _, s := range stats {
		ok := false
		for _, w := range WindowStats {
			ok = ok || s == w
		}
		if !ok {
			return nil, fmt.Errorf("ml: unknown window statistic %q (want one of %v)", s, WindowStats)
		}
	}
	if lags < 0 || lags > size {
		return nil, fmt.Errorf("ml: window lags must be between 0 and size %d, got %d", size, lags)
	}
	if fft < 0 || fft > size/2+1 {
		return nil, fmt.Errorf("ml: window fft bins must be between 0 and size/2+1 = %d, got %d", size/2+1, fft)
	}
	return &Window{Size: size, Stats: stats, Lags: lags, FFT: fft, Ring: make([]float64, size)}, nil
}

// Dim returns the number of features.
func (w *Window) Dim() int { return len(w.Stats) + w.Lags + w.FFT }

// FeatureNames returns the names of the features, in order.
func (w *Window) FeatureNames() []string {
	out := append([]string(nil), w.Stats...)
	for i := 1; i <= w.Lags; i++ {
		out = append(out, fmt.Sprintf("lag_%d", i))
	}
	for k := range w.FFT {
		out = append(out, fmt.Sprintf("fft_%d", k))
	}
	return out
}

// Push adds the next value of the series.
func (w *Window) Push(v float64) {
	if len(w.Ring) != w.Size {
		w.Ring = make([]float64, w.Size)
	}
	w.Ring[w.Pos] = v
	w.Pos = (w.Pos + 1) % w.Size
	w.Filled = min(w.Filled+1, w.Size)
}

// PushAt adds the value v observed at time t (non-decreasing) and expires
// values older than t − MaxAge.
func (w *Window) PushAt(t, v float64) {
	if len(w.Times) != w.Size {
		w.Times = make([]float64, w.Size)
	}
	w.Times[w.Pos] = t
	w.Push(v)
	w.Expire(t)
}

// Expire drops values observed before now − MaxAge (only for windows
// filled with PushAt and a positive MaxAge).
func (w *Window) Expire(now float64) {
	if w.MaxAge <= 0 || len(w.Times) != w.Size {
		return
	}
	for w.Filled > 0 {
		oldest := (w.Pos - w.Filled + w.Size) % w.Size
		if w.Times[oldest] >= now-w.MaxAge {
			break
		}
		w.Filled--
	}
}

// Len returns the number of values in the window.
func (w *Window) Len() int { return w.Filled }

// at returns the i-th value in time order (0 = oldest in the window).
func (w *Window) at(i int) float64 {
	start := (w.Pos - w.Filled + w.Size) % w.Size
	return w.Ring[(start+i)%w.Size]
}

// Features writes the features into dst (grown to Dim) and returns it.
// All features are 0 for an empty window.
func (w *Window) Features(dst []float64) []float64 {
	d := w.Dim()
	if cap(dst) < d {
		dst = make([]float64, d)
	}
	dst = dst[:d]
	n := w.Filled
	var sum, sq, mn, mx, sxy float64
	mn, mx = math.Inf(1), math.Inf(-1)
	for i := range n {
		v := w.at(i)
		sum += v
		sq += v * v
		mn, mx = min(mn, v), max(mx, v)
		sxy += float64(i) * v
	}
	fn := float64(n)
	mean := 0.0
	if n > 0 {
		mean = sum / fn
	}
	for i, s := range w.Stats {
		var f float64
		if n > 0 {
			switch s {
			case "mean":
				f = mean
			case "std":
				f = math.Sqrt(max(sq/fn-mean*mean, 0))
			case "min":
				f = mn
			case "max":
				f = mx
			case "sum":
				f = sum
			case "count":
				f = fn
			case "last":
				f = w.at(n - 1)
			case "slope":
				// Σ(i−ī)(x−x̄) / Σ(i−ī)², ī = (n−1)/2, Σ(i−ī)² = n(n²−1)/12.
				if n > 1 {
					ibar := (fn - 1) / 2
					f = (sxy - ibar*sum) / (fn * (fn*fn - 1) / 12)
				}
			}
		}
		dst[i] = f
	}
	off := len(w.Stats)
	for l := 1; l <= w.Lags; l++ {
		if l <= n {
			dst[off+l-1] = w.at(n - l)
		} else {
			dst[off+l-1] = 0
		}
	}
	off += w.Lags
	if w.FFT > 0 {
		if w.fft == nil {
			w.fft = fourier.NewFFT(w.Size)
			w.seq = make([]float64, w.Size)
			w.coeffs = make([]complex128, w.Size/2+1)
		}
		for i := range w.seq {
			if i < n {
				w.seq[i] = w.at(i)
			} else {
				w.seq[i] = 0
			}
		}
		w.coeffs = w.fft.Coefficients(w.coeffs, w.seq)
		for k := range w.FFT {
			dst[off+k] = cmplx.Abs(w.coeffs[k]) / float64(w.Size)
		}
	}
	return dst
}
