package mlops

import (
	"fmt"
	"io"
	"strings"
)

// Report is the prequential evaluation of one candidate of a model over
// one evaluation window (or the whole run when Cumulative), as published
// to MetricsSubject(job, model) in JSON:
//
//	{"job":"spam","model":"spam","candidate":0,"window_start":0,"window_end":60000,
//	 "rows":812,"metrics":{"accuracy":0.981,"auc":0.993},"version":3}
type Report struct {
	Job         string             `json:"job"`
	Model       string             `json:"model"`
	Candidate   int                `json:"candidate"`
	WindowStart int64              `json:"window_start,omitempty"` // epoch ms
	WindowEnd   int64              `json:"window_end,omitempty"`
	Cumulative  bool               `json:"cumulative,omitempty"`
	Rows        int                `json:"rows"`
	Metrics     map[string]float64 `json:"metrics"`
	Version     int                `json:"version,omitempty"` // registry version of the candidate then
}

// Summary is what the ML side of a run did, for the run summary.
type Summary struct {
	Stages []StageSummary `json:"stages,omitempty"`
	Models []ModelSummary `json:"models,omitempty"`
}

// StageSummary holds the counters of one clean stage or model.
type StageSummary struct {
	Stage    string           `json:"stage"`
	Counters map[string]int64 `json:"counters"`
}

// ModelSummary describes a model trained in the job.
type ModelSummary struct {
	Model      string             `json:"model"`
	Rows       int64              `json:"rows"`
	Learned    int64              `json:"learned"`
	Best       int                `json:"best"` // candidate index
	Version    int                `json:"version,omitempty"`
	Candidates []CandidateSummary `json:"candidates"`
	Windows    []Report           `json:"windows,omitempty"`
}

// CandidateSummary is one candidate's parameters and cumulative metrics.
type CandidateSummary struct {
	Params  map[string]any     `json:"params,omitempty"`
	Metrics map[string]float64 `json:"metrics"`
	Version int                `json:"version,omitempty"`
}

// Summary returns the counters of every stage and the metrics of every
// model trained so far. It is safe to call while the job runs.
func (rt *Runtime) Summary() Summary {
	rt.mu.Lock()
	stages := make([]*Counters, 0, len(rt.counters))
	for _, k := range sortedKeys(rt.counters) {
		stages = append(stages, rt.counters[k])
	}
	models := make([]*jobModel, 0, len(rt.trained))
	for _, k := range sortedKeys(rt.trained) {
		models = append(models, rt.trained[k])
	}
	rt.mu.Unlock()
	var s Summary
	for _, c := range stages {
		s.Stages = append(s.Stages, StageSummary{Stage: c.Stage, Counters: c.Snapshot()})
	}
	for _, jm := range models {
		jm.mu.Lock()
		ms := ModelSummary{Model: jm.spec.Name, Rows: jm.rows, Learned: jm.learned, Best: jm.best,
			Version: jm.cands[jm.best].version}
		for _, c := range jm.cands {
			ms.Candidates = append(ms.Candidates, CandidateSummary{Params: c.params, Metrics: c.cum.compute(jm.metrics), Version: c.version})
		}
		for _, r := range jm.reports {
			if !r.Cumulative {
				ms.Windows = append(ms.Windows, r)
			}
		}
		jm.mu.Unlock()
		s.Models = append(s.Models, ms)
	}
	return s
}

// WriteText prints the summary for humans (the end of a bounded run):
//
//	clean messages: dedup_dropped=7 filter_dropped=0 imputed=0 ...
//	model spam: 5567 rows, 5567 learned, version 3; accuracy=0.9724 auc=0.9866
func (s Summary) WriteText(w io.Writer) {
	for _, st := range s.Stages {
		var parts []string
		for _, k := range sortedKeys(st.Counters) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, st.Counters[k]))
		}
		fmt.Fprintf(w, "ml %s: %s\n", st.Stage, strings.Join(parts, " "))
	}
	for _, m := range s.Models {
		for i, c := range m.Candidates {
			var parts []string
			for _, k := range sortedKeys(c.Metrics) {
				parts = append(parts, fmt.Sprintf("%s=%.4f", k, c.Metrics[k]))
			}
			name := m.Model
			if len(m.Candidates) > 1 {
				name = fmt.Sprintf("%s[%d]", m.Model, i)
				if i == m.Best {
					name += "*"
				}
			}
			fmt.Fprintf(w, "model %s: %d rows, %d learned, version %d; %s\n", name, m.Rows, m.Learned, c.Version, strings.Join(parts, " "))
		}
	}
}
