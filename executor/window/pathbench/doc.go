// Package pathbench holds the benchmark of the executor's hot path: raw
// JSON records → jetstream.Decoder → window.WindowAgg → an in-memory sink.
// It lives apart from package window so that window's own tests do not
// depend on the JetStream I/O package.
package pathbench
