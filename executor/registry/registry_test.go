package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flowrun/flowrun/executor/jstest"
	"github.com/flowrun/flowrun/executor/registry"
	"github.com/flowrun/flowrun/ml"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open starts an embedded JetStream and opens a registry on it.
func open(t testing.TB, opts ...registry.Option) (*registry.Registry, jetstream.JetStream) {
	t.Helper()
	nc := jstest.Connect(t, jstest.RunServer(t))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := registry.Open(ctx, js, append([]registry.Option{registry.WithActor("tester"), registry.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, js
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// train fits a logistic regression on y = [w0·x0 + w1·x1 > 0] over 400
// synthetic points.
func train(t testing.TB, w0, w1 float64) ml.Model {
	t.Helper()
	a, ok := ml.Lookup("logistic_regression")
	if !ok {
		t.Fatal("no logistic_regression")
	}
	m, err := a.New(map[string]any{"optimizer": "lbfgs"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var X []ml.Vector
	var y []float64
	for range 400 {
		x0, x1 := rng.NormFloat64(), rng.NormFloat64()
		X = append(X, ml.Dense([]float64{x0, x1}))
		if w0*x0+w1*x1 > 0 {
			y = append(y, 1)
		} else {
			y = append(y, 0)
		}
	}
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	return m
}

var meta = registry.VersionMeta{
	Features: []string{"x0", "x1"},
	Label:    "y",
	Metrics:  map[string]float64{"auc": 0.99},
	Source:   &registry.Source{Stream: "TRAIN", FirstSeq: 1, LastSeq: 400},
	Job:      "unit",
}

func TestRoundTrip(t *testing.T) {
	r, _ := open(t)
	ctx := ctxT(t)

	if _, err := r.Get(ctx, "m"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Get of unknown model: %v, want ErrNotFound", err)
	}
	m1, m2 := train(t, 1, 1), train(t, -1, 1)
	v1, err := r.Publish(ctx, "m", m1, meta)
	if err != nil || v1 != 1 {
		t.Fatalf("Publish: %d, %v", v1, err)
	}
	v2, err := r.Publish(ctx, "m", m2, meta)
	if err != nil || v2 != 2 {
		t.Fatalf("Publish: %d, %v", v2, err)
	}
	if _, err := r.Publish(ctx, "other", m1, meta); err != nil {
		t.Fatal(err)
	}

	list, err := r.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "m" || list[1].Name != "other" {
		t.Fatalf("List: %v, %v", list, err)
	}
	e, err := r.Get(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	v := e.Version(1)
	if v == nil || v.Algorithm != "logistic_regression" || v.Object != "m/v1.json" || v.CreatedBy != "tester" ||
		v.Metrics["auc"] != 0.99 || v.Source.LastSeq != 400 || len(v.Features) != 2 || v.Params["optimizer"] != "lbfgs" {
		t.Fatalf("version 1 = %+v", v)
	}

	// No champion: the latest serves.
	cur, err := r.LoadCurrent(ctx, "m")
	if err != nil || cur.Version != 2 {
		t.Fatalf("LoadCurrent: %v, %v", cur, err)
	}
	x := ml.Dense([]float64{1, 0.5}) // class 1 for m1, class 0 for m2
	if p := cur.Predict(x); p > 0.5 {
		t.Errorf("v2 predicts %v, want < 0.5", p)
	}
	l1, err := r.Load(ctx, "m", 1)
	if err != nil || l1.Predict(x) < 0.5 {
		t.Fatalf("Load v1: %v, %v", l1, err)
	}
	if _, err := r.Load(ctx, "m", 7); !errors.Is(err, registry.ErrVersionNotFound) {
		t.Fatalf("Load v7: %v", err)
	}

	// Promote and roll back.
	if err := r.Promote(ctx, "m", 1); err != nil {
		t.Fatal(err)
	}
	if cur, _ := r.LoadCurrent(ctx, "m"); cur.Version != 1 {
		t.Fatalf("after promote 1: current %d", cur.Version)
	}
	if err := r.Promote(ctx, "m", 2); err != nil {
		t.Fatal(err)
	}
	if err := r.Promote(ctx, "m", 9); !errors.Is(err, registry.ErrVersionNotFound) {
		t.Fatalf("promote 9: %v", err)
	}
	to, err := r.Rollback(ctx, "m")
	if err != nil || to != 1 {
		t.Fatalf("Rollback: %d, %v", to, err)
	}
	if _, err := r.Rollback(ctx, "m"); !errors.Is(err, registry.ErrNoPrevious) {
		t.Fatalf("second Rollback: %v, want ErrNoPrevious", err)
	}
	e, _ = r.Get(ctx, "m")
	if e.Aliases[registry.Champion] != 1 || len(e.Events) != 3 || e.Events[2].Action != "rollback" || e.Events[1].By != "tester" {
		t.Fatalf("after rollback: aliases %v events %+v", e.Aliases, e.Events)
	}

	// Export and import.
	var buf bytes.Buffer
	if err := r.Export(ctx, "m", 2, &buf); err != nil {
		t.Fatal(err)
	}
	want, _ := ml.Marshal(m2)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("export differs from ml.Marshal")
	}
	iv, err := r.Import(ctx, "copy", bytes.NewReader(buf.Bytes()), meta)
	if err != nil || iv != 1 {
		t.Fatalf("Import: %d, %v", iv, err)
	}
	lc, err := r.LoadCurrent(ctx, "copy")
	if err != nil || math.Abs(lc.Predict(x)-cur.Predict(x)) > 1e-12 {
		t.Fatalf("imported model: %v %v", lc, err)
	}
	if _, err := r.Import(ctx, "bad", bytes.NewReader([]byte(`{"format":"nope"}`)), meta); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("import of junk: %v, want ErrCorrupt", err)
	}
	if _, err := r.Publish(ctx, "bad name", m1, meta); !errors.Is(err, registry.ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
}

func TestConcurrentPublish(t *testing.T) {
	r, _ := open(t)
	ctx := ctxT(t)
	m := train(t, 1, 1)
	const workers, each = 4, 5
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				v, err := r.Publish(ctx, "c", m, meta)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Ints(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("versions %v, want 1..%d", got, workers*each)
		}
	}
	e, err := r.Get(ctx, "c")
	if err != nil || len(e.Ready()) != workers*each {
		t.Fatalf("index has %d ready versions, %v", len(e.Ready()), err)
	}
}

// corrupt overwrites the stored object of version v of model name.
func corrupt(t *testing.T, js jetstream.JetStream, name string, v int, data string) {
	t.Helper()
	ctx := ctxT(t)
	obj, err := js.ObjectStore(ctx, registry.ModelBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.PutString(ctx, name+"/v"+itoa(v)+".json", data); err != nil {
		t.Fatal(err)
	}
}

func itoa(v int) string { b, _ := json.Marshal(v); return string(b) }

func TestCorruptModelRefused(t *testing.T) {
	r, js := open(t)
	ctx := ctxT(t)
	if _, err := r.Publish(ctx, "m", train(t, 1, 1), meta); err != nil {
		t.Fatal(err)
	}
	h := r.Handle("m")
	l, err := h.Wait(ctx)
	if err != nil || l.Version != 1 {
		t.Fatalf("Wait: %v %v", l, err)
	}
	// Version 2 is published fine, then its object is damaged behind the
	// registry's back; promoting it must not reach the handle.
	if _, err := r.Publish(ctx, "m", train(t, -1, 1), meta); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 5*time.Second, "v2 not loaded", func() bool { return h.Current().Version == 2 })
	if _, err := r.Publish(ctx, "m", train(t, 1, -1), meta); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 5*time.Second, "v3 not loaded", func() bool { return h.Current().Version == 3 })
	corrupt(t, js, "m", 1, `{"format":"flowrun.model/v1","algorithm":"logistic_regression","state":{"w":`)
	if _, err := r.Load(ctx, "m", 1); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("Load of corrupt v1: %v, want ErrCorrupt", err)
	}
	if err := r.Promote(ctx, "m", 1); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 5*time.Second, "corrupt v1 not refused", func() bool { return h.Refused() == 1 })
	if v := h.Current().Version; v != 3 {
		t.Fatalf("serving %d after a corrupt promotion, want 3", v)
	}

	// A valid model of the wrong algorithm is refused by a handle that
	// expects logistic regression with 2 features.
	h2 := r.Handle("m", registry.Expect("logistic_regression", 3))
	defer h2.Close()
	jstest.Eventually(t, 5*time.Second, "incompatible not refused", func() bool { return h2.Refused() >= 1 })
	if h2.Current() != nil {
		t.Fatalf("h2 loaded an incompatible model")
	}
}

func TestHotSwapUnderLoad(t *testing.T) {
	r, _ := open(t)
	ctx := ctxT(t)
	if _, err := r.Publish(ctx, "m", train(t, 1, 1), meta); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Publish(ctx, "m", train(t, -1, 1), meta); err != nil {
		t.Fatal(err)
	}
	if err := r.Promote(ctx, "m", 1); err != nil {
		t.Fatal(err)
	}
	h := r.Handle("m")
	if l, err := h.Wait(ctx); err != nil || l.Version != 1 {
		t.Fatalf("Wait: %v %v", l, err)
	}
	x := ml.Dense([]float64{1, 0.5})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad sync.Once
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				l := h.Current()
				if l == nil || l.Model == nil {
					bad.Do(func() { t.Error("nil model while serving") })
					return
				}
				p := l.Predict(x)
				if (l.Version == 1) != (p > 0.5) {
					bad.Do(func() { t.Errorf("version %d predicts %v", l.Version, p) })
					return
				}
				runtime.Gosched() // 4 spinning callers on 2 cores: let the watcher run
			}
		})
	}
	for _, v := range []int{2, 1, 2} {
		start := time.Now()
		if err := r.Promote(ctx, "m", v); err != nil {
			t.Fatal(err)
		}
		jstest.Eventually(t, time.Second, "promotion not seen within 1s", func() bool { return h.Current().Version == v })
		t.Logf("promotion to v%d seen after %v", v, time.Since(start))
	}
	close(stop)
	wg.Wait()
}

func TestWatch(t *testing.T) {
	r, _ := open(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	ch, err := r.Watch(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	m := train(t, 1, 1)
	if _, err := r.Publish(ctx, "w", m, meta); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, ch); c.Version != 1 || c.Champion {
		t.Fatalf("got %+v", c)
	}
	if err := r.Promote(ctx, "w", 1); err != nil { // same version: no event
		t.Fatal(err)
	}
	if _, err := r.Publish(ctx, "w", m, meta); err != nil {
		t.Fatal(err)
	}
	if err := r.Promote(ctx, "w", 2); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, ch); c.Version != 2 || !c.Champion {
		t.Fatalf("got %+v", c)
	}
	cancel()
	for range ch {
	}
}

func recv(t *testing.T, ch <-chan registry.Current) registry.Current {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("watch closed")
		}
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event after 5s")
	}
	return registry.Current{}
}

func TestRetention(t *testing.T) {
	r, js := open(t, registry.WithKeep(3))
	ctx := ctxT(t)
	m := train(t, 1, 1)
	for i := 1; i <= 6; i++ {
		if _, err := r.Publish(ctx, "k", m, meta); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := r.Promote(ctx, "k", 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	e, err := r.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, v := range e.Ready() {
		got = append(got, v.Version)
	}
	if want := []int{1, 4, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v (champion and the newest 3)", got, want)
	}
	if _, err := r.Load(ctx, "k", 2); !errors.Is(err, registry.ErrVersionNotFound) {
		t.Fatalf("Load pruned v2: %v", err)
	}
	obj, _ := js.ObjectStore(ctx, registry.ModelBucket)
	if _, err := obj.GetInfo(ctx, "k/v2.json"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("object of pruned v2: %v", err)
	}
	if l, err := r.LoadCurrent(ctx, "k"); err != nil || l.Version != 1 {
		t.Fatalf("champion after pruning: %v %v", l, err)
	}
}

// BenchmarkHandlePredict measures Current().Predict from parallel callers
// (the predict operator's hot path).
func BenchmarkHandlePredict(b *testing.B) {
	r, _ := open(b)
	ctx := ctxT(b)
	if _, err := r.Publish(ctx, "m", train(b, 1, 1), meta); err != nil {
		b.Fatal(err)
	}
	h := r.Handle("m")
	if _, err := h.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		x := ml.Dense([]float64{1, 0.5})
		for pb.Next() {
			h.Current().Predict(x)
		}
	})
}

func TestHandleRetriesTransientErrors(t *testing.T) {
	r, js := open(t)
	ctx := ctxT(t)
	for _, m := range []ml.Model{train(t, 1, 1), train(t, -1, 1)} {
		if _, err := r.Publish(ctx, "m", m, meta); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Promote(ctx, "m", 1); err != nil {
		t.Fatal(err)
	}
	var v2 bytes.Buffer
	if err := r.Export(ctx, "m", 2, &v2); err != nil {
		t.Fatal(err)
	}
	h := r.Handle("m")
	if l, err := h.Wait(ctx); err != nil || l.Version != 1 {
		t.Fatalf("Wait: %v %v", l, err)
	}

	// The object store is gone (an outage) when v2 is promoted: the
	// handle cannot read v2, keeps serving v1 and retries.
	if err := js.DeleteObjectStore(ctx, registry.ModelBucket); err != nil {
		t.Fatal(err)
	}
	if err := r.Promote(ctx, "m", 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if l := h.Current(); l.Version != 1 || h.Refused() != 0 {
		t.Fatalf("during the outage: serving v%d, refused %d", l.Version, h.Refused())
	}
	obj, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: registry.ModelBucket})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.PutBytes(ctx, "m/v2.json", v2.Bytes()); err != nil {
		t.Fatal(err)
	}
	jstest.Eventually(t, 10*time.Second, "v2 not loaded after the outage", func() bool { return h.Current().Version == 2 })
}
