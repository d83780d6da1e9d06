// Package registry is flowrun's model registry: versions of trained models
// in the JetStream Object Store bucket flowrun-models, an index per model
// in the KV bucket flowrun-model-index, and Handles that follow a model's
// champion and hot-swap it atomically for predict operators and the
// prediction API.
//
// Layout (see docs/registry.md):
//
//	Object Store flowrun-models       fraud/v1.json, fraud/v2.json, ...   the ml JSON envelope
//	KV flowrun-model-index            fraud → Entry (versions, metrics, aliases, events)
//
// Versions are numbered 1, 2, ... per model. Publish allocates a number by
// a compare-and-set on the index entry's KV revision (retrying on
// conflicts), stores the object, then marks the version ready, so
// concurrent publishers in any number of processes get distinct,
// consecutive numbers and readers never see a version whose object is not
// fully stored.
//
// A worked example:
//
//	reg, err := registry.Open(ctx, js)
//	v, err := reg.Publish(ctx, "fraud", model, registry.VersionMeta{
//		Features: []string{"amount", "tx_count"},
//		Label:    "is_fraud",
//		Labels:   &registry.Labels{Type: "bool", Values: []any{false, true}}, // class 0, class 1
//		Metrics:  map[string]float64{"auc": 0.93},
//		Source:   &registry.Source{Stream: "TX", FirstSeq: 1, LastSeq: 50000},
//		Job:      "fraud-detection",
//	})
//	err = reg.Promote(ctx, "fraud", v) // champion = v
//
//	h := reg.Handle("fraud", registry.Expect("logistic_regression", 2))
//	defer h.Close()
//	if l := h.Current(); l != nil { // nil until the first version is loaded
//		score := l.Predict(ml.Dense([]float64{120, 3}))
//		_ = score // l.Version scored it
//	}
//
// Every version is validated before it serves: the stored bytes must match
// the SHA-256 digest in the index, unmarshal with ml.Unmarshal, have the
// recorded algorithm and accept a vector of the recorded feature count. A
// Handle refuses (and logs) a version that fails, and keeps serving the
// one it has.
package registry
