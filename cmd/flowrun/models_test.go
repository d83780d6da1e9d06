package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fjs "github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/ml"
)

// flowrun runs the CLI in-process and returns its stdout and error.
func flowrunCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := rootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestModelsCLI(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	a, _ := ml.Lookup("linear_regression")
	m, err := a.New(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	X := []ml.Vector{ml.Dense([]float64{0, 1}), ml.Dense([]float64{1, 0}), ml.Dense([]float64{1, 1}), ml.Dense([]float64{2, 1})}
	if err := m.Fit(X, []float64{1, 2, 3, 5}); err != nil {
		t.Fatal(err)
	}
	b, _ := ml.Marshal(m)
	file := filepath.Join(dir, "m.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		args []string
		want string // in stdout
		err  any    // nil, userError{} or usageError{}
	}{
		{[]string{"models", "import", "price", file, "--features", "a,b", "--metric", "rmse=0.1"}, "imported price v1", nil},
		{[]string{"models", "import", "price", file, "--features", "a,b", "--promote"}, "promoted price v2", nil},
		{[]string{"models", "promote", "price", "v1"}, "champion is now v1", nil},
		{[]string{"models", "list"}, "price  2         v1       v1", nil},
		{[]string{"models", "get", "price"}, "rmse=0.1", nil},
		{[]string{"models", "get", "price", "--version", "1"}, "Features:     a, b", nil},
		{[]string{"models", "get", "price", "--version", "7"}, "", userError{}},
		{[]string{"models", "rollback", "price"}, "rolled back to v2", nil},
		{[]string{"models", "rollback", "price"}, "", userError{}},
		{[]string{"models", "get", "nope"}, "", userError{}},
		{[]string{"models", "promote", "price", "x"}, "", usageError{}},
		{[]string{"models", "list", "-o", "xml"}, "", usageError{}},
		{[]string{"models", "import", "bad", filepath.Join(dir, "missing.json")}, "", userError{}},
	}
	for _, s := range steps {
		out, err := flowrunCLI(t, append(s.args, "--store", store)...)
		switch s.err.(type) {
		case nil:
			if err != nil {
				t.Fatalf("%v: %v", s.args, err)
			}
		case userError:
			if !errors.As(err, new(userError)) {
				t.Fatalf("%v: %v, want a user error", s.args, err)
			}
		case usageError:
			if !errors.As(err, new(usageError)) {
				t.Fatalf("%v: %v, want a usage error", s.args, err)
			}
		}
		if !strings.Contains(out, s.want) {
			t.Fatalf("%v: output %q lacks %q", s.args, out, s.want)
		}
	}

	out, err := flowrunCLI(t, "models", "export", "price", "--version", "1", "--store", store)
	if err != nil || out != string(b) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	out, err = flowrunCLI(t, "models", "get", "price", "-o", "json", "--store", store)
	var got struct {
		Current  int `json:"current_version"`
		Versions []struct {
			Features []string `json:"features"`
		} `json:"versions"`
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.Current != 2 || len(got.Versions) != 2 || len(got.Versions[0].Features) != 2 {
		t.Fatalf("get -o json: %v\n%s", err, out)
	}
	if out, err := flowrunCLI(t, "models", "get", "price", "-o", "yaml", "--store", store); err != nil || !strings.Contains(out, "current_version: 2") {
		t.Fatalf("get -o yaml: %v\n%s", err, out)
	}

	// get --version -o json round-trips through import --meta.
	out, err = flowrunCLI(t, "models", "get", "price", "--version", "1", "-o", "json", "--store", store)
	if err != nil {
		t.Fatal(err)
	}
	metaFile := filepath.Join(dir, "meta.json")
	os.WriteFile(metaFile, []byte(out), 0o644)
	if out, err := flowrunCLI(t, "models", "import", "price2", file, "--meta", metaFile, "--store", store); err != nil || !strings.Contains(out, "imported price2 v1") {
		t.Fatalf("import --meta: %v %s", err, out)
	}
	if out, err := flowrunCLI(t, "models", "get", "price2", "--version", "1", "--store", store); err != nil || !strings.Contains(out, "rmse=0.1") || !strings.Contains(out, "a, b") {
		t.Fatalf("imported metadata: %v\n%s", err, out)
	}
}

// TestModelsGetLabels: "models get" shows a classifier version's labels
// (in the versions table, with --version, and in -o json, which "models
// import --meta" reads back); a version without labels shows "-".
func TestModelsGetLabels(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	a, _ := ml.Lookup("naive_bayes")
	m, err := a.New(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit([]ml.Vector{ml.Dense([]float64{0}), ml.Dense([]float64{10}), ml.Dense([]float64{20}), ml.Dense([]float64{1}), ml.Dense([]float64{11}), ml.Dense([]float64{21})},
		[]float64{0, 1, 2, 0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	b, _ := ml.Marshal(m)
	file := filepath.Join(dir, "nb.json")
	metaFile := filepath.Join(dir, "meta.json")
	os.WriteFile(file, b, 0o644)
	os.WriteFile(metaFile, []byte(`{"features":["x"],"label":"level","labels":{"type":"string","values":["low","mid","high"]}}`), 0o644)
	for _, args := range [][]string{
		{"models", "import", "levels", file, "--meta", metaFile},
		{"models", "import", "levels", file, "--features", "x"},
	} {
		if _, err := flowrunCLI(t, append(args, "--store", store)...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	out, err := flowrunCLI(t, "models", "get", "levels", "--store", store)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	var v1, v2 string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "VERSION"):
			if !strings.Contains(l, "FEATURES  LABELS") {
				t.Fatalf("header %q lacks LABELS", l)
			}
		case strings.HasPrefix(l, "v1 "):
			v1 = l
		case strings.HasPrefix(l, "v2 "):
			v2 = l
		}
	}
	if f1, f2 := strings.Fields(v1), strings.Fields(v2); len(f1) < 6 || f1[5] != "low,mid,high" || len(f2) < 7 || f2[6] != "-" {
		t.Fatalf("versions table:\n%s", out)
	}
	out, err = flowrunCLI(t, "models", "get", "levels", "--version", "1", "--store", store)
	if err != nil || !strings.Contains(out, "Labels:       low, mid, high (string)") {
		t.Fatalf("get --version 1: %v\n%s", err, out)
	}
	out, err = flowrunCLI(t, "models", "get", "levels", "--version", "2", "--store", store)
	if err != nil || !strings.Contains(out, "Labels:       -") {
		t.Fatalf("get --version 2: %v\n%s", err, out)
	}
	out, err = flowrunCLI(t, "models", "get", "levels", "--version", "1", "-o", "json", "--store", store)
	var got struct {
		Labels struct {
			Type   string `json:"type"`
			Values []any  `json:"values"`
		} `json:"labels"`
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.Labels.Type != "string" || len(got.Labels.Values) != 3 || got.Labels.Values[2] != "high" {
		t.Fatalf("get --version 1 -o json: %v\n%s", err, out)
	}
	// The JSON round-trips through import --meta, labels included.
	os.WriteFile(metaFile, []byte(out), 0o644)
	if _, err := flowrunCLI(t, "models", "import", "levels2", file, "--meta", metaFile, "--store", store); err != nil {
		t.Fatal(err)
	}
	if out, err := flowrunCLI(t, "models", "get", "levels2", "--version", "1", "--store", store); err != nil || !strings.Contains(out, "low, mid, high (string)") {
		t.Fatalf("imported labels: %v\n%s", err, out)
	}
	// Labels that do not fit their type are refused.
	os.WriteFile(metaFile, []byte(`{"features":["x"],"labels":{"type":"bool","values":["yes"]}}`), 0o644)
	if _, err := flowrunCLI(t, "models", "import", "levels", file, "--meta", metaFile, "--store", store); !errors.As(err, new(userError)) {
		t.Fatalf("import of bad labels: %v, want a user error", err)
	}
}

func TestServeRefusesOpenAddrWithoutToken(t *testing.T) {
	t.Setenv("FLOWRUN_TOKEN", "")
	_, err := flowrunCLI(t, "serve", "--addr", "0.0.0.0:0", "--store", t.TempDir())
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "token") {
		t.Fatalf("serve on 0.0.0.0 without token: %v", err)
	}
}

func TestStoreLock(t *testing.T) {
	store := t.TempDir()
	unlock, err := fjs.LockStore(store, "127.0.0.1:4333")
	if err != nil {
		t.Fatal(err)
	}
	_, err = flowrunCLI(t, "models", "list", "--store", store)
	if !errors.As(err, new(userError)) || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "--nats nats://127.0.0.1:4333") {
		t.Fatalf("second opener: %v", err)
	}
	unlock()
	if _, err := flowrunCLI(t, "models", "list", "--store", store); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}
