package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Champion is the alias that names the version served by LoadCurrent,
// Handle and the prediction API.
const Champion = "champion"

// Source is the data a version was trained on: a JetStream stream and the
// inclusive range of stream sequences read, or a file.
type Source struct {
	Stream   string `json:"stream,omitempty"`
	FirstSeq uint64 `json:"first_seq,omitempty"`
	LastSeq  uint64 `json:"last_seq,omitempty"`
	File     string `json:"file,omitempty"`
}

// VersionMeta is what the publisher of a version says about it. Features
// lists the model's input columns in the order the model expects them; the
// prediction API maps an instance's named values to a vector with it.
// Params, when nil, is filled from the model's resolved hyper-parameters.
// Labels, for a classifier, are its class labels in class-number order
// (what PREDICT_LABEL and the prediction API return instead of class
// numbers); versions published without them predict class numbers only.
type VersionMeta struct {
	Features    []string           `json:"features,omitempty"`
	Label       string             `json:"label,omitempty"`
	Labels      *Labels            `json:"labels,omitempty"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Params      map[string]any     `json:"params,omitempty"`
	Source      *Source            `json:"source,omitempty"`
	Job         string             `json:"job,omitempty"`
	Description string             `json:"description,omitempty"`
}

// Version is one entry of a model's index: the publisher's VersionMeta plus
// what the registry records. A Pending version has been allocated but its
// object is not stored yet (or its publisher died); readers skip it.
type Version struct {
	Version   int       `json:"version"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by,omitempty"`
	Algorithm string    `json:"algorithm"`
	Object    string    `json:"object"`
	Size      int       `json:"size,omitempty"`
	Digest    string    `json:"digest,omitempty"` // "sha256:<hex>" of the stored model JSON
	Pending   bool      `json:"pending,omitempty"`
	VersionMeta
}

// Event is one change of an alias, kept in the index for audit.
type Event struct {
	Action   string    `json:"action"` // "promote" or "rollback"
	Alias    string    `json:"alias"`
	Version  int       `json:"version"`
	Previous int       `json:"previous,omitempty"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at"`
}

// Entry is the index of one model, stored as JSON under the model's name in
// the KV bucket IndexBucket:
//
//	{
//	  "name": "fraud",
//	  "next_version": 4,
//	  "versions": [{"version": 1, "created": "...", "algorithm": "logistic_regression",
//	                "object": "fraud/v1.json", "digest": "sha256:...", "features": ["amount", ...],
//	                "label": "is_fraud", "labels": {"type": "bool", "values": [false, true]},
//	                "metrics": {"auc": 0.91}, "params": {...},
//	                "source": {"stream": "TX", "first_seq": 1, "last_seq": 5000}, "job": "fraud-detection"}, ...],
//	  "aliases": {"champion": 3},
//	  "champion_history": [1, 2],
//	  "events": [{"action": "promote", "alias": "champion", "version": 3, "previous": 2, "by": "ci@build1", "at": "..."}]
//	}
//
// champion_history is the stack of earlier champions that Rollback pops.
type Entry struct {
	Name            string         `json:"name"`
	NextVersion     int            `json:"next_version"`
	Versions        []Version      `json:"versions"`
	Aliases         map[string]int `json:"aliases,omitempty"`
	ChampionHistory []int          `json:"champion_history,omitempty"`
	Events          []Event        `json:"events,omitempty"`

	revision uint64
}

// maxEvents bounds the audit log kept in an index entry.
const maxEvents = 100

// Version returns the ready version v, or nil.
func (e *Entry) Version(v int) *Version {
	for i := range e.Versions {
		if e.Versions[i].Version == v && !e.Versions[i].Pending {
			return &e.Versions[i]
		}
	}
	return nil
}

// Latest returns the ready version with the highest number, or nil.
func (e *Entry) Latest() *Version {
	var best *Version
	for i := range e.Versions {
		v := &e.Versions[i]
		if !v.Pending && (best == nil || v.Version > best.Version) {
			best = v
		}
	}
	return best
}

// Current returns the version that serves: the champion when set, else the
// latest ready version; nil when there is none.
func (e *Entry) Current() *Version {
	if c, ok := e.Aliases[Champion]; ok {
		if v := e.Version(c); v != nil {
			return v
		}
	}
	return e.Latest()
}

// Ready returns the ready versions, oldest first.
func (e *Entry) Ready() []Version {
	out := make([]Version, 0, len(e.Versions))
	for _, v := range e.Versions {
		if !v.Pending {
			out = append(out, v)
		}
	}
	return out
}

func (e *Entry) addEvent(ev Event) {
	e.Events = append(e.Events, ev)
	if n := len(e.Events); n > maxEvents {
		e.Events = append([]Event(nil), e.Events[n-maxEvents:]...)
	}
}

func decodeEntry(b []byte, rev uint64) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: index entry: %v", ErrCorrupt, err)
	}
	e.revision = rev
	return &e, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// CheckName reports whether name can name a model: 1 to 128 letters, digits,
// '-' and '_', starting with a letter or digit.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-128 letters, digits, '-' or '_'", ErrInvalidName, name)
	}
	return nil
}

// objectName is the Object Store name of version v of model name.
func objectName(name string, v int) string { return fmt.Sprintf("%s/v%d.json", name, v) }

// prune removes the oldest ready versions beyond the newest keep (keep 0:
// none), sparing the champion and the champions Rollback can return to,
// and returns what it removed.
func (e *Entry) prune(keep int) []Version {
	ready := e.Ready()
	if keep <= 0 || len(ready) <= keep {
		return nil
	}
	spare := map[int]bool{}
	if c, ok := e.Aliases[Champion]; ok {
		spare[c] = true
	}
	for _, v := range e.ChampionHistory {
		spare[v] = true
	}
	cut := ready[len(ready)-keep].Version // versions are appended in number order
	var drop []Version
	kept := e.Versions[:0]
	for _, v := range e.Versions {
		if !v.Pending && v.Version < cut && !spare[v.Version] {
			drop = append(drop, v)
			continue
		}
		kept = append(kept, v)
	}
	e.Versions = kept
	return drop
}
