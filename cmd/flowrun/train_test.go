package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const trainJobYAML = `apiVersion: flowrun.dev/v1
kind: Pipeline
metadata:
  name: points
spec:
  sources:
    - name: points
      jetstream: {stream: POINTS, subjects: ["points.>"]}
      schema:
        x1: double
        x2: {type: double, nullable: true}
        y: bool
  stages:
    - name: filled
      from: points
      clean:
        impute: {x2: mean}
    - name: scaled
      from: filled
      features:
        - scale: {inputs: [x1, x2]}
    - name: scored
      sql: SELECT y, PREDICT(sep, x1, x2) AS p FROM scaled
  models:
    - name: sep
      algorithm: logistic_regression
      from: scaled
      features: [x1, x2]
      label: y
      params: {optimizer: lbfgs}
      training: {mode: batch}
      evaluation: {metrics: [accuracy, auc]}
      tuning:
        method: grid
        params: {l2: [0.01, 1.0, 100.0]}
        metric: accuracy
        validation: {holdout: 0.25}
  sinks:
    - name: out
      from: scored
      jetstream: {stream: OUT, subject: out.points}
`

func TestTrainCLI(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "points.yaml")
	if err := os.WriteFile(job, []byte(trainJobYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 400 {
		x1 := math.Sin(float64(i)) * 3
		x2 := fmt.Sprint(math.Cos(float64(i*7)) * 3)
		if i%10 == 0 {
			x2 = "null"
		}
		fmt.Fprintf(&b, `{"x1":%g,"x2":%s,"y":%v}`+"\n", x1, x2, x1 > 0.5)
	}
	data := filepath.Join(dir, "points.jsonl")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store")

	out, err := flowrunCLI(t, "train", job, "--model", "sep", "--input", "points="+data, "--store", store)
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	for _, want := range []string{"model sep (logistic_regression): 400 rows", "tuning: 3 trials, accuracy by holdout 0.25", "l2=0.01", "winner:", "registered: sep version 1 (champion)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = flowrunCLI(t, "train", job, "--model", "sep", "--input", "points="+data, "--store", store, "-o", "json", "--no-promote")
	if err != nil {
		t.Fatalf("train -o json: %v\n%s", err, out)
	}
	var res struct {
		Rows     int
		Version  int
		Promoted bool
		Metrics  map[string]float64
		Trials   []struct{ Score float64 }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Rows != 400 || res.Version != 2 || res.Promoted || len(res.Trials) != 3 || res.Metrics["accuracy"] < 0.9 {
		t.Fatalf("result %+v", res)
	}
	out, err = flowrunCLI(t, "models", "get", "sep", "--store", store)
	if err != nil || !strings.Contains(out, "champion") {
		t.Fatalf("models get: %v\n%s", err, out)
	}

	// A later run on the same store scores with the champion (version 1).
	scored := filepath.Join(dir, "scored.jsonl")
	if out, err := flowrunCLI(t, "run", job, "--store", store, "--input", "points="+data, "--output", "out="+scored, "--bounded", "--quiet"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	lines, err := os.ReadFile(scored)
	if err != nil {
		t.Fatal(err)
	}
	ok, n := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		var r struct {
			Y bool
			P *float64
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.P == nil {
			t.Fatalf("scored row %q: %v", l, err)
		}
		n++
		if (*r.P > 0.5) == r.Y {
			ok++
		}
	}
	if n != 400 || float64(ok)/float64(n) < 0.9 {
		t.Fatalf("run scored %d rows, %d right", n, ok)
	}

	for _, c := range []struct {
		args []string
		err  any
	}{
		{[]string{"train", job, "--model", "nope", "--input", "points=" + data, "--store", store}, userError{}},
		{[]string{"train", job, "--model", "sep", "--store", store}, userError{}},
		{[]string{"train", job, "--input", "points=" + data}, nil}, // missing --model: cobra's required-flag error
		{[]string{"train", job, "--model", "sep", "--input", "points"}, usageError{}},
	} {
		_, err := flowrunCLI(t, c.args...)
		if err == nil {
			t.Errorf("%v: no error", c.args)
			continue
		}
		switch c.err.(type) {
		case userError:
			var ue userError
			if !errors.As(err, &ue) {
				t.Errorf("%v: %v is not a user error", c.args, err)
			}
		case usageError:
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("%v: %v is not a usage error", c.args, err)
			}
		}
	}
}
