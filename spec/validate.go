package spec

import (
	"sync"

	"github.com/flowrun/flowrun/udf"
)

// Check is an extra validation of a decoded pipeline, registered by
// another package (the planner binds SQL and checks types). It must not
// modify p and must give every diagnostic a position.
type Check func(p *Pipeline) Diagnostics

var (
	checksMu sync.Mutex
	checks   []Check
)

// RegisterCheck adds a Check that Validate runs after its own checks. It is
// meant to be called from an init function; it is safe for concurrent use.
func RegisterCheck(c Check) {
	checksMu.Lock()
	defer checksMu.Unlock()
	checks = append(checks, c)
}

// Validate checks a decoded pipeline and returns every problem found,
// sorted by position: its own checks and then those of RegisterCheck. It
// uses the limits p was decoded with. Parse, LoadFile and Load call it
// unless WithoutValidation is given. It may be called concurrently for
// different pipelines; it does not modify p.
func Validate(p *Pipeline) Diagnostics {
	ds := validate(p, p.options(), true)
	ds.Sort()
	return ds
}

// ValidateBuiltin runs only the checks of this package, not the
// registered ones; a registered Check may call it without recursion.
func ValidateBuiltin(p *Pipeline) Diagnostics {
	ds := validate(p, p.options(), false)
	ds.Sort()
	return ds
}

// options returns the options p was decoded with, or the defaults.
func (p *Pipeline) options() *options {
	if p.opts != nil {
		return p.opts
	}
	return newOptions(nil)
}

func validate(p *Pipeline, o *options, registered bool) Diagnostics {
	v := &validator{p: p, o: o, edges: map[string][]edge{}}
	v.run()
	if registered {
		checksMu.Lock()
		cs := append([]Check(nil), checks...)
		checksMu.Unlock()
		for _, c := range cs {
			v.ds = append(v.ds, c(p)...)
		}
	}
	return v.ds
}

// validator holds the state of one Validate call.
type validator struct {
	p  *Pipeline
	o  *options
	ds Diagnostics

	nodes   map[string]*node
	schemas map[string]*relSchema
	edges   map[string][]edge
	env     *udf.Env
	// brokenRefs is set when a from: or FROM name is unknown: unused
	// warnings are then left out, as the broken name may be a use.
	brokenRefs bool
}
