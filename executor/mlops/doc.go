// Package mlops runs the ML stages of a job: the operators of clean:
// stages (Clean), features: stages (Features) and models trained in the
// job (Train), and the eval.Models implementation (Runtime) that PREDICT,
// PREDICT_LABEL and MODEL_VERSION call.
//
// The engine makes one Runtime per run by itself (executor/engine/ml_hooks.go:
// registry on the engine's connection, the Runtime as the expressions'
// Models). A caller that wants its own plugs it into the engine's Build hook
// and expression environment:
//
//	rt, _ := mlops.New(graph, mlops.Options{Job: graph.Job, Registry: reg, Models: p.Spec.Models,
//		Funcs: funcs, Publish: func(subj string, b []byte) error { return nc.Publish(subj, b) }})
//	defer rt.Close()
//	eng, _ := engine.New(ctx, graph, engine.Options{..., Env: &eval.Env{Funcs: funcs, Models: rt},
//		Build: rt.Builder(engine.ErrUnsupported)})
//	err = eng.Run(ctx)
//	sum := rt.Summary() // clean counters, prequential metrics per model
//
// # Shared models and prequential PREDICT
//
// For the job
//
//	stages:
//	  - name: vecs
//	    from: sms
//	    features: [{tfidf: {input: text, output: words, dims: 8192}}]
//	  - name: scored
//	    sql: SELECT is_spam, PREDICT_LABEL(spam, words) AS guess FROM vecs
//	models:
//	  - {name: spam, algorithm: logistic_regression, from: vecs, features: [words], label: is_spam}
//
// the plan is Source[sms] → Features[vecs] → {Train[spam], Project[scored]}:
// the Train node and the node that calls PREDICT are siblings reading the
// same producer, so they see the same rows in the same order, in two
// tasks. The Runtime holds one jobModel per model trained in the job,
// shared by both. The Train operator, for each row, under the model's
// lock: scores the row with every candidate (prequential metrics), queues
// the score of the best candidate under a hash of the row's feature
// values, and then learns the row. PREDICT on a paired model (found in the
// plan: a model call in a node that reads the Train node's producer) takes
// the oldest score not taken yet under the hash of its own feature values,
// waiting for the trainer while the trainer makes progress. So every row
// is scored by the model that learned exactly the rows before it (in the
// trainer's order), whatever the interleaving of the tasks, and also when
// the PREDICT stage runs as several tasks, each seeing part of the rows.
// The trainer never waits for PREDICT, so the pairing cannot deadlock.
// Rows PREDICT sees that the trainer does not (another input, other
// argument expressions) fall back, after PairTimeout without trainer
// progress, to the live model (three misses in a row disable the pairing
// for that call kind, with a warning). Queued scores nobody takes (rows a
// WHERE dropped before PREDICT) are bounded: past 65,536 the oldest go.
// PREDICT of an unpaired in-job model scores with the live model under the
// lock. During warmup (training.warmup rows learned; mode windowed: before
// the first window is fitted) PREDICT is NULL.
//
// Models not trained in the job (mode batch, trained by `flowrun train`,
// or trained by another job) are scored with the registry's current
// version (champion, else latest) through a registry.Handle, which swaps
// versions atomically: one PREDICT call loads the current *Loaded once
// and scores with it, so no row sees a half-loaded model.
//
// # Class labels
//
// A classifier learns class numbers: string labels get 0, 1, ... in order
// of appearance, bigint and bool labels are their own numbers. The model
// keeps its labels in class-number order with their type
// (registry.Labels) and publishes them with every version, so
// PREDICT_LABEL returns the label as trained ("spam", not 1) for a model
// trained in the job and for a registry version alike, as the type the
// planner gave it (the declared label column's type). A version published
// without labels (before they were recorded) gives the class number.
//
// # Training
//
// Mode online learns every labelled row (unsupervised models every row);
// mode windowed buffers the rows of each tumbling training.window (event
// time) and fits a fresh model per candidate when the window closes.
// Prequential metrics (evaluation.metrics, by default accuracy, auc,
// logloss, precision, recall and f1 for classifiers; rmse, mae and r2 for
// regressors) are reported per evaluation.window of event time and for the
// whole run as Reports, published as JSON to flowrun.metrics.<job>.<model>
// and kept for Summary. Versions are published to the registry every
// training.publishEvery rows (or event-time duration) and at the end of
// the run, with the cumulative metrics, the parameters, the feature names
// (a vector feature f of width n is listed as f[0]..f[n-1]), the class
// labels and the source stream. With candidates:, each parameter set is a model learning side
// by side; at each publication the best by the first evaluation metric is
// promoted to champion (recorded in the registry's index events).
//
// Batch training (`flowrun train`) is TrainBatch: it fits on rows decoded
// from a file, with the model's tuning: (grid or random search, k-fold or
// holdout validation) and registers the best.
package mlops
