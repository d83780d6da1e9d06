package mlops

import (
	"strings"
	"testing"

	"github.com/flowrun/flowrun/executor"
	"github.com/flowrun/flowrun/ml"
	"github.com/flowrun/flowrun/planner"
	"github.com/flowrun/flowrun/spec"
	"github.com/flowrun/flowrun/udf"
)

// spamGraph is the plan of
//
//	stages:  vecs: {from: sms, features: [{tfidf: {input: text, output: words, dims: 8192}}]}
//	         scored: SELECT ts, is_spam, PREDICT_LABEL(spam, words) AS guess FROM vecs
//	models:  spam: {algorithm: logistic_regression, from: vecs, features: [words], label: is_spam}
//
// built by hand (source 0 → features 1 → {train 2, project 3}).
func spamGraph(model spec.Model) (*planner.Graph, *planner.FeaturesOp, planner.Schema) {
	in := schema("ts", "ts", udf.TypeTimestamp, "is_spam", udf.TypeBool, "text", udf.TypeString)
	fop := &planner.FeaturesOp{Input: in, Spec: []spec.Feature{{TFIDF: &spec.TFIDF{Input: "text", Output: "words", Dims: 8192, Ngrams: 1}}}}
	out := in
	out.Columns = append(append([]planner.Column(nil), in.Columns...), planner.Column{Name: "words", Type: udf.TypeVector})
	call := &planner.ModelCall{Kind: planner.PredictLabel, Model: "spam", T: udf.TypeBool,
		Args: []planner.Expr{&planner.ColumnRef{Index: 3, Name: "words", T: udf.TypeVector}}}
	g := &planner.Graph{Job: "spam", Nodes: []*planner.Node{
		{ID: 0, Stage: "sms", Op: &planner.SourceOp{Source: "sms", Stream: "SMS"}, Schema: in},
		{ID: 1, Stage: "vecs", Op: fop, Schema: out},
		{ID: 2, Stage: "spam", Op: &planner.TrainOp{Model: model, Features: []int{3}, Label: 1}},
		{ID: 3, Stage: "scored", Op: &planner.ProjectOp{Exprs: []planner.Expr{call}}},
	}, Edges: []planner.Edge{{From: 0, To: 1}, {From: 1, To: 2}, {From: 1, To: 3}}}
	return g, fop, out
}

func smsRows(t testing.TB) []udf.Row {
	var rows []udf.Row
	for i, l := range lines(t, "sms-spam-collection/SMSSpamCollection.gz") {
		label, text, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		rows = append(rows, udf.Row{udf.Time(int64(i) * 1000), udf.Bool(label == "spam"), udf.Str(text)})
	}
	return rows
}

// TestSpamPrequential trains online logistic regression on TF-IDF vectors
// of the SMS spam collection while a concurrent PREDICT_LABEL scores the
// same rows: every row is scored before the model learns it, so the
// PREDICT results equal the trainer's own prequential decisions.
func TestSpamPrequential(t *testing.T) {
	rows := smsRows(t)
	model := spec.Model{Name: "spam", Algorithm: "logistic_regression", Features: []string{"words"}, Label: "is_spam",
		Params:     map[string]any{"optimizer": "ftrl", "alpha": 5.0, "l2": 0.0},
		Training:   &spec.Training{Mode: "online", Warmup: 50},
		Evaluation: &spec.Evaluation{Metrics: []string{"accuracy", "auc"}, Window: spec.Duration(1000 * 1000 * 1e6)}}
	g, fop, out := spamGraph(model)
	rt, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if !rt.trained["spam"].paired {
		t.Fatal("PREDICT_LABEL over the training relation is not paired")
	}
	feats, err := rt.Build(g.Nodes[1], []planner.Schema{fop.Input})
	if err != nil {
		t.Fatal(err)
	}
	vecs := run(t, feats, rows).rows
	train, err := rt.Build(g.Nodes[2], []planner.Schema{out})
	if err != nil {
		t.Fatal(err)
	}
	// The predict side runs in its own goroutine, as the engine runs the
	// sibling task.
	guesses := make(chan []udf.Value, 1)
	go func() {
		var got []udf.Value
		for _, r := range vecs {
			v, err := rt.Predict(planner.PredictLabel, "spam", []udf.Value{r[3]})
			if err != nil {
				t.Error(err)
			}
			got = append(got, v)
		}
		guesses <- got
	}()
	run(t, train, vecs)
	got := <-guesses
	half := len(rows) / 2
	var ok, n int
	for i := half; i < len(rows); i++ {
		n++
		if got[i].K == udf.TypeBool && got[i].AsBool() == rows[i][1].AsBool() {
			ok++
		}
	}
	acc := float64(ok) / float64(n)
	t.Logf("prequential accuracy over the second half (%d rows): %.4f", n, acc)
	if acc < 0.975 {
		t.Errorf("accuracy %.4f < 0.975", acc)
	}
	s := rt.Summary()
	if len(s.Models) != 1 || s.Models[0].Learned != int64(len(rows)) {
		t.Fatalf("summary %+v", s)
	}
	t.Logf("cumulative metrics %v, %d windows", s.Models[0].Candidates[0].Metrics, len(s.Models[0].Windows))
	_ = executor.MaxWatermark
}

// TestSpamPrequentialPartitioned: two PREDICT tasks (a parallel SQL
// stage) each score half of the rows; every row still gets its own
// prequential score, so the predictions equal the single-task ones.
func TestSpamPrequentialPartitioned(t *testing.T) {
	rows := smsRows(t)[:3000]
	model := spec.Model{Name: "spam", Algorithm: "logistic_regression", Features: []string{"words"}, Label: "is_spam",
		Params: map[string]any{"optimizer": "ftrl", "alpha": 5.0, "l2": 0.0}, Training: &spec.Training{Warmup: 50}}
	g, fop, out := spamGraph(model)
	rt, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	feats, _ := rt.Build(g.Nodes[1], []planner.Schema{fop.Input})
	vecs := run(t, feats, rows).rows
	train, _ := rt.Build(g.Nodes[2], []planner.Schema{out})
	got := make([]udf.Value, len(vecs))
	done := make(chan struct{})
	for part := range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := part; i < len(vecs); i += 2 {
				v, err := rt.Predict(planner.PredictLabel, "spam", []udf.Value{vecs[i][3]})
				if err != nil {
					t.Error(err)
				}
				got[i] = v
			}
		}()
	}
	run(t, train, vecs)
	<-done
	<-done
	// Oracle: score then learn, inline.
	jm, _ := newJobModel(&model)
	var z vectorizer
	for i, r := range vecs {
		x := z.vector([]udf.Value{r[3]})
		want := udf.Null
		if i >= 50 {
			want = udf.Bool(jm.cands[0].model.(ml.Classifier).PredictLabel(x) == 1)
		}
		if got[i].K != want.K || got[i].I != want.I {
			t.Fatalf("row %d: PREDICT = %v, prequential score %v", i, got[i], want)
		}
		y, _ := jm.label(r[1])
		jm.cands[0].model.Learn(x, y)
	}
	if m := rt.trained["spam"].misses; m[planner.PredictLabel] != 0 {
		t.Fatalf("misses %v", m)
	}
}
