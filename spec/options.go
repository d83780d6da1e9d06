package spec

import "os"

// Default limits against hostile or broken job files (DESIGN §9). Each can
// be changed with an Option and a flag of `flowrun validate`.
const (
	DefaultMaxFileSize  = 4 << 20  // bytes of one job file
	DefaultMaxNodes     = 10_000   // YAML nodes after expanding aliases
	DefaultMaxDepth     = 64       // nesting of mappings and sequences
	DefaultMaxSQLLength = 64 << 10 // bytes of one SQL text
)

// Option changes how job files are loaded.
type Option func(*options)

type options struct {
	maxFileSize  int64
	maxNodes     int
	maxDepth     int
	maxSQLLength int
	lookupEnv    func(string) (string, bool)
	noValidate   bool
}

func newOptions(opts []Option) *options {
	o := &options{
		maxFileSize:  DefaultMaxFileSize,
		maxNodes:     DefaultMaxNodes,
		maxDepth:     DefaultMaxDepth,
		maxSQLLength: DefaultMaxSQLLength,
		lookupEnv:    os.LookupEnv,
	}
	for _, f := range opts {
		f(o)
	}
	return o
}

// WithMaxFileSize caps the size of a job file in bytes (flag --max-file-size).
func WithMaxFileSize(n int64) Option { return func(o *options) { o.maxFileSize = n } }

// WithMaxNodes caps the YAML nodes of a file counted with every alias
// expanded, which stops "billion laughs" files (flag --max-yaml-nodes).
func WithMaxNodes(n int) Option { return func(o *options) { o.maxNodes = n } }

// WithMaxDepth caps the nesting depth of mappings and sequences (flag
// --max-depth).
func WithMaxDepth(n int) Option { return func(o *options) { o.maxDepth = n } }

// WithMaxSQLLength caps the length of one SQL text in bytes (flag
// --max-sql-length).
func WithMaxSQLLength(n int) Option { return func(o *options) { o.maxSQLLength = n } }

// WithEnv sets the lookup of ${VAR} interpolation (default os.LookupEnv).
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = lookup }
}

// WithoutValidation makes Parse, LoadFile and Load only decode: they skip
// Validate. The planner uses it when it validates by itself.
func WithoutValidation() Option { return func(o *options) { o.noValidate = true } }
