package jetstream

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jsapi "github.com/nats-io/nats.go/jetstream"
)

// SavepointBucket is the Object Store bucket of operator savepoints.
const SavepointBucket = "FLOWRUN_SAVEPOINTS"

// Savepoints keeps the operator state of a job that stopped gracefully,
// one object per job: a map from operator key to its Snapshot. The engine
// writes it after a drained stop and reads and deletes it at the next
// start, so a stopped live job continues with its open windows, tables and
// joins instead of losing them.
type Savepoints struct {
	os jsapi.ObjectStore
}

// Savepoints opens (create: or creates) the savepoint bucket. Without the
// bucket and create it returns nil: no savepoints.
func (c *Conn) Savepoints(ctx context.Context, create bool) (*Savepoints, error) {
	os, err := c.JS.ObjectStore(ctx, SavepointBucket)
	if errors.Is(err, jsapi.ErrBucketNotFound) && !create {
		return nil, nil
	}
	if errors.Is(err, jsapi.ErrBucketNotFound) {
		os, err = c.JS.CreateObjectStore(ctx, jsapi.ObjectStoreConfig{Bucket: SavepointBucket,
			Description: "flowrun: operator state of jobs stopped gracefully"})
		if errors.Is(err, jsapi.ErrBucketExists) {
			os, err = c.JS.ObjectStore(ctx, SavepointBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: savepoints: %w", err)
	}
	return &Savepoints{os: os}, nil
}

// Load returns the savepoint of job, or ok false when there is none.
func (s *Savepoints) Load(ctx context.Context, job string) (states map[string][]byte, ok bool, err error) {
	b, err := s.os.GetBytes(ctx, job)
	if errors.Is(err, jsapi.ErrObjectNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("jetstream: savepoint of %s: %w", job, err)
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&states); err != nil {
		return nil, false, fmt.Errorf("jetstream: savepoint of %s is damaged: %w", job, err)
	}
	return states, true, nil
}

// Save replaces the savepoint of job.
func (s *Savepoints) Save(ctx context.Context, job string, states map[string][]byte) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(states); err != nil {
		return err
	}
	if _, err := s.os.PutBytes(ctx, job, buf.Bytes()); err != nil {
		return fmt.Errorf("jetstream: save savepoint of %s: %w", job, err)
	}
	return nil
}

// SavepointInfo describes one stored savepoint.
type SavepointInfo struct {
	Job      string    `json:"job"`
	Bytes    uint64    `json:"bytes"`
	Modified time.Time `json:"modified"`
}

// List returns the stored savepoints by job name.
func (s *Savepoints) List(ctx context.Context) ([]SavepointInfo, error) {
	objs, err := s.os.List(ctx)
	if errors.Is(err, jsapi.ErrNoObjectsFound) {
		return []SavepointInfo{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: list savepoints: %w", err)
	}
	out := make([]SavepointInfo, 0, len(objs))
	for _, o := range objs {
		out = append(out, SavepointInfo{Job: o.Name, Bytes: o.Size, Modified: o.ModTime})
	}
	slices.SortFunc(out, func(a, b SavepointInfo) int { return strings.Compare(a.Job, b.Job) })
	return out, nil
}

// Delete removes the savepoint of job (none is no error).
func (s *Savepoints) Delete(ctx context.Context, job string) error {
	if err := s.os.Delete(ctx, job); err != nil && !errors.Is(err, jsapi.ErrObjectNotFound) {
		return fmt.Errorf("jetstream: delete savepoint of %s: %w", job, err)
	}
	return nil
}
