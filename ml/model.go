package ml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Model is a learning model built by Algorithm.New.
//
// Learn updates the model with one example; Fit trains it on a batch
// (replacing what it learned before where the algorithm is a batch one, see
// each algorithm's doc); Predict returns
//   - for a binary classifier, the probability (or a score in [0,1]) of class 1;
//   - for a multiclass classifier, the probability of the predicted class
//     (PredictLabel of Classifier gives the class);
//   - for a regressor, the predicted value;
//   - for k-means, the cluster id;
//   - for an anomaly detector, the anomaly score (higher is more anomalous);
//   - for a drift detector, the detector's estimate of the monitored mean;
//   - for a recommender, the predicted rating of the (user, item) ids in x.
//
// Learn skips examples with a NaN or infinite feature or label (one would
// corrupt the model for good); impute upstream. The label y of a binary
// classifier is class 1 when y > 0.5 (so 0/1 and
// false/true work); multiclass labels are the integers 0..K−1. Anomaly and
// drift detectors ignore y.
//
// Predict, PredictLabel, PredictProba, PredictRating and Recommend only
// read the model: they may run concurrently with each other, but not with
// Learn or Fit. To serve a model while another goroutine trains it,
// snapshot it with Marshal (or Clone) and swap the copy in. Learn and
// Predict never keep x's slices.
type Model interface {
	// Algorithm returns the name of the model's algorithm.
	Algorithm() string
	// Params returns the model's resolved hyper-parameters (a copy).
	Params() Params
	// Learn updates the model with one example.
	Learn(x Vector, y float64)
	// Fit trains the model on a batch of examples; len(y) must equal
	// len(X) for supervised algorithms (y may be nil otherwise).
	Fit(X []Vector, y []float64) error
	// Predict returns the model's score for x (see the Model doc).
	Predict(x Vector) float64
}

// Classifier is a Model that predicts classes.
type Classifier interface {
	Model
	// PredictLabel returns the predicted class (0 or 1 for binary models).
	PredictLabel(x Vector) float64
	// PredictProba writes the class probabilities into dst (grown to
	// the number of classes) and returns it.
	PredictProba(dst []float64, x Vector) []float64
}

// DriftDetector is a Model that watches a stream of values (x's first
// element, or y when x is empty) and detects changes of its distribution.
type DriftDetector interface {
	Model
	// Update adds one value and reports whether a drift was detected
	// with it.
	Update(v float64) bool
	// Detections returns the number of drifts detected so far.
	Detections() int
}

// RatingModel is a recommender over string user and item ids.
type RatingModel interface {
	Model
	// LearnRating learns that user rated (or interacted with) item.
	LearnRating(user, item string, rating float64)
	// PredictRating predicts user's rating of item.
	PredictRating(user, item string) float64
	// Recommend returns the k best items for user, best first, skipping
	// items the model knows the user has rated when it tracks them.
	Recommend(user string, k int) []ItemScore
}

// ItemScore is one recommended item.
type ItemScore struct {
	Item  string  `json:"item"`
	Score float64 `json:"score"`
}

// stateful is implemented by every model: the pointer it returns is
// marshalled as the envelope's "state" and unmarshalled into on load.
type stateful interface {
	meta() *base
	state() any
}

// restorer is implemented by models that rebuild caches after load.
type restorer interface {
	restore() error
}

// base holds what every model shares.
type base struct {
	algo string
	p    Params
	seed int64
}

func (b *base) Algorithm() string { return b.algo }
func (b *base) Params() Params    { return b.p.clone() }
func (b *base) meta() *base       { return b }

// Format is the envelope format of serialized models.
const Format = "flowrun.model/v1"

// ErrFormat is returned (wrapped) by Unmarshal for documents of an unknown
// format or version.
var ErrFormat = errors.New("ml: unsupported model format")

// envelope is the serialized form of a model:
//
//	{
//	  "format": "flowrun.model/v1",      // refused unless exactly this
//	  "algorithm": "logistic_regression", // a name of the Algorithms table
//	  "seed": 1,                          // the seed given to New
//	  "params": {"optimizer": "ftrl", ...}, // all resolved hyper-parameters
//	  "state": {...}                      // algorithm specific, see each model's state type
//	}
type envelope struct {
	Format    string          `json:"format"`
	Algorithm string          `json:"algorithm"`
	Seed      int64           `json:"seed"`
	Params    Params          `json:"params"`
	State     json.RawMessage `json:"state"`
}

// Marshal serializes m as a versioned JSON document:
//
//	{"format":"flowrun.model/v1","algorithm":"...","seed":0,"params":{...},"state":{...}}
//
// params holds every hyper-parameter (defaults included); state holds what
// the model learned, in a documented algorithm-specific shape (weights,
// standardization statistics, tree nodes, centres, ...). Keys of params are
// sorted, so equal models marshal to equal bytes.
func Marshal(m Model) ([]byte, error) {
	s, ok := m.(stateful)
	if !ok {
		return nil, fmt.Errorf("ml: marshal %T: not a model of this package", m)
	}
	st, err := json.Marshal(s.state())
	if err != nil {
		return nil, fmt.Errorf("ml: marshal %s state: %w", m.Algorithm(), err)
	}
	b := s.meta()
	return json.Marshal(envelope{Format: Format, Algorithm: b.algo, Seed: b.seed, Params: b.p, State: st})
}

// Unmarshal reads a model written by Marshal. A document whose format is
// not Format is refused with ErrFormat; an unknown algorithm with
// ErrUnknownAlgorithm; invalid params with ErrInvalidParams.
func Unmarshal(data []byte) (Model, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("ml: unmarshal model: %w", err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("%w %q (this build reads %q)", ErrFormat, head.Format, Format)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("ml: unmarshal model: %w", err)
	}
	a, ok := Lookup(env.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, env.Algorithm)
	}
	m, err := a.New(env.Params, env.Seed)
	if err != nil {
		return nil, err
	}
	s := m.(stateful)
	if len(env.State) > 0 && string(env.State) != "null" {
		if err := json.Unmarshal(env.State, s.state()); err != nil {
			return nil, fmt.Errorf("ml: unmarshal %s state: %w", env.Algorithm, err)
		}
	}
	if r, ok := m.(restorer); ok {
		if err := r.restore(); err != nil {
			return nil, fmt.Errorf("ml: restore %s: %w", env.Algorithm, err)
		}
	}
	return m, nil
}

// Clone returns an independent deep copy of m (through Marshal and
// Unmarshal).
func Clone(m Model) (Model, error) {
	b, err := Marshal(m)
	if err != nil {
		return nil, err
	}
	return Unmarshal(b)
}

// Algorithms is the table of learning algorithms, sorted by name.
var Algorithms = sortedAlgorithms(
	linearRegressionAlgorithm,
	logisticRegressionAlgorithm,
	linearSVMAlgorithm,
	decisionTreeAlgorithm,
	hoeffdingTreeAlgorithm,
	kmeansAlgorithm,
	naiveBayesAlgorithm,
	matrixFactorizationAlgorithm,
	popularityAlgorithm,
	zscoreAnomalyAlgorithm,
	halfSpaceTreesAlgorithm,
	adwinAlgorithm,
	pageHinkleyAlgorithm,
)

func sortedAlgorithms(as ...*Algorithm) []*Algorithm {
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	return as
}

func checkXY(X []Vector, y []float64) error {
	if len(X) != len(y) {
		return fmt.Errorf("ml: %d examples but %d labels", len(X), len(y))
	}
	if len(X) == 0 {
		return errors.New("ml: no examples")
	}
	return nil
}
