// Package ml is flowrun's learning library: models, feature transforms,
// metrics and hyper-parameter tuning, as a leaf over gonum (no I/O, no
// NATS, no other flowrun package).
//
// # Tables
//
// Everything a job file can name is a row of a declarative table with its
// doc string: Algorithms (with their hyper-parameters, Param), Transforms
// and Metrics. The planner validates a job with Algorithm.Validate (each
// ParamError names the offending key), the executor builds models with
// Algorithm.New, and docs/ml-reference.md is generated from the tables
// (go generate ./ml; a test fails when it is stale).
//
// # Models
//
// Every model implements Model: Learn (one example, online), Fit (a
// batch), Predict (the score: probability of class 1, regression value,
// cluster id, anomaly score, ...). Classifiers add PredictLabel and
// PredictProba, drift detectors Update, recommenders LearnRating,
// PredictRating and Recommend. Inputs are Vectors, dense or sparse; linear
// models touch only the non-zeros of sparse inputs, so TF-IDF or hashed
// features with 2^16 or more dimensions are cheap. Linear models
// standardize dense inputs internally by default (standardize: true), with
// the statistics saved in the model.
//
// Marshal and Unmarshal turn a model into a versioned JSON document
// ({"format":"flowrun.model/v1","algorithm":...,"params":{...},"state":{...}})
// and back. Models are deterministic for a given seed. A Model is not safe
// for concurrent use; serve a copy (Clone) while another goroutine learns.
//
// # Example
//
// An online logistic regression with FTRL-proximal, learning from a stream
// and scoring it prequentially (predict, then learn):
//
//	alg, _ := ml.Lookup("logistic_regression")
//	if errs := alg.Validate(map[string]any{"optimizer": "ftrl", "alhpa": 0.05}); len(errs) > 0 {
//		fmt.Println(errs[0]) // alhpa: unknown hyper-parameter "alhpa" of logistic_regression (did you mean "alpha"?)
//	}
//	m, _ := alg.New(map[string]any{"optimizer": "ftrl", "alpha": 0.05, "l1": 1}, 1)
//	auc, _ := ml.NewMetric("auc", 10000)
//	for _, ex := range stream {
//		x := ml.Dense(ex.Features)
//		auc.Update(ex.Label, m.Predict(x))
//		m.Learn(x, ex.Label)
//	}
//	doc, _ := ml.Marshal(m) // {"format":"flowrun.model/v1","algorithm":"logistic_regression",...}
//
// See docs/ml-algorithms.md for the measured quality on real data next to
// scikit-learn's figures.
package ml

//go:generate go run ./internal/gendoc -o ../docs/ml-reference.md
