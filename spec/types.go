package spec

import (
	"time"

	"github.com/flowrun/flowrun/udf"
)

// The envelope constants of a job file.
const (
	APIVersion   = "flowrun.dev/v1"
	KindPipeline = "Pipeline"
)

// Pos is a position in a job file: 1-based line and column (column in
// bytes of the line, as editors count for ASCII). The zero Pos is unknown.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// Text is a string value of the job file that holds code (SQL, an expr-lang
// expression). Besides the value it keeps what is needed to map a byte offset
// inside the value back to a file position, including inside `|` and `>`
// block scalars and quoted strings. See (*Text).PosAt.
type Text struct {
	Value string
	Pos   Pos // position of the first byte of the value in the file

	// segs and src map value offsets to file positions (set by the decoder).
	segs []seg
	src  *srcMap
}

// Duration is a job-file duration: Go syntax plus a `d` (24h) unit, e.g.
// 500ms, 5s, 10m, 1h, 1d, 1d12h.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Pipeline is one document of a job file.
type Pipeline struct {
	APIVersion string       `json:"apiVersion" doc:"Must be flowrun.dev/v1."`
	Kind       string       `json:"kind" doc:"Must be Pipeline."`
	Metadata   Metadata     `json:"metadata"`
	Spec       PipelineSpec `json:"spec"`

	// Pos is the position of the document's first node.
	Pos Pos `json:"-"`
	// Src is the whole text of the file the document came from (for snippets).
	Src []byte `json:"-"`

	// src maps offsets to positions; pos holds the position of every value
	// by path (see PosOf). Both are set by the decoder.
	src *srcMap
	pos map[string]Pos
}

// Metadata names a pipeline.
type Metadata struct {
	Name        string            `json:"name" doc:"Pipeline name: lower-case letters, digits and '-' (a DNS label). State and model versions are keyed by it."`
	Labels      map[string]string `json:"labels,omitempty" doc:"Free-form labels, e.g. team: risk."`
	Annotations map[string]string `json:"annotations,omitempty" doc:"Free-form annotations."`
	Pos         Pos               `json:"-"`
}

// PipelineSpec is the body of a pipeline.
type PipelineSpec struct {
	Parallelism int        `json:"parallelism,omitempty" doc:"Tasks per keyed stage (partitions of the key space). Default 1." default:"1"`
	Sources     []Source   `json:"sources"`
	Functions   []Function `json:"functions,omitempty"`
	Stages      []Stage    `json:"stages,omitempty"`
	Models      []Model    `json:"models,omitempty"`
	Sinks       []Sink     `json:"sinks,omitempty"`
}

// Source is a stream of records read from JetStream.
type Source struct {
	Name      string           `json:"name" doc:"Name used by from: and SQL FROM."`
	JetStream *JetStreamSource `json:"jetstream,omitempty"`
	Format    string           `json:"format,omitempty" enum:"json,csv" default:"json"`
	CSV       *CSVOptions      `json:"csv,omitempty"`
	Schema    []Column         `json:"schema" doc:"Columns in order: a mapping of name to type or {type, nullable}."`
	EventTime *EventTime       `json:"eventTime,omitempty"`
	StartFrom string           `json:"startFrom,omitempty" doc:"earliest, latest or an RFC 3339 time." default:"earliest"`
	Pos       Pos              `json:"-"`
}

// JetStreamSource names the stream a source reads.
type JetStreamSource struct {
	Stream   string   `json:"stream" doc:"Stream name; created if missing."`
	Subjects []string `json:"subjects,omitempty" doc:"Subjects of the stream (when it is created) and the consumer's filter. Default <stream lower-case>.>"`
	Durable  string   `json:"durable,omitempty" doc:"Durable consumer name. Default flowrun_<job>_<source>."`
	Pos      Pos      `json:"-"`
}

// CSVOptions configures CSV decoding.
type CSVOptions struct {
	Header    bool   `json:"header,omitempty" doc:"The first record is a header naming the columns."`
	Delimiter string `json:"delimiter,omitempty" default:","`
}

// Column is one column of a source schema.
type Column struct {
	Name     string   `json:"name"`
	Type     udf.Type `json:"type"`
	Nullable bool     `json:"nullable,omitempty"`
	Pos      Pos      `json:"-"`
}

// EventTime declares the event-time column of a source and its watermark.
type EventTime struct {
	Column            string   `json:"column" doc:"A timestamp column of the schema."`
	MaxOutOfOrderness Duration `json:"maxOutOfOrderness,omitempty" doc:"Watermark = max event time seen - this." default:"0s"`
	IdleTimeout       Duration `json:"idleTimeout,omitempty" doc:"An input with no data for this long stops holding the watermark back. 0 = never."`
	AllowedLateness   Duration `json:"allowedLateness,omitempty" doc:"Rows older than watermark - this are late (dead-lettered with class late)."`
	Pos               Pos      `json:"-"`
}

// Function is a user function written in expr-lang.
type Function struct {
	Name    string  `json:"name"`
	Params  []Param `json:"params,omitempty" doc:"Parameter names, or {name, type} mappings."`
	Returns string  `json:"returns,omitempty" doc:"Return type; inferred when omitted."`
	Expr    Text    `json:"expr" doc:"expr-lang expression over the parameters."`
	Pos     Pos     `json:"-"`
}

// Param is a parameter of a user function. Type is empty when inferred.
type Param struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	Pos  Pos    `json:"-"`
}

// Stage is a named step of the pipeline. Exactly one of SQL, Clean and
// Features is set.
type Stage struct {
	Name     string       `json:"name"`
	From     string       `json:"from,omitempty" doc:"Input of a clean or features stage (SQL stages name theirs in FROM)."`
	SQL      *Text        `json:"sql,omitempty"`
	Clean    *Clean       `json:"clean,omitempty"`
	Features []Feature    `json:"features,omitempty"`
	Table    *Table       `json:"table,omitempty" doc:"Keep the latest row per key, joinable as a table."`
	Limits   *StateLimits `json:"limits,omitempty"`
	Pos      Pos          `json:"-"`
	FromPos  Pos          `json:"-"`
}

// Kind returns "sql", "clean", "features" or "" when none is set.
func (s *Stage) Kind() string {
	switch {
	case s.SQL != nil:
		return "sql"
	case s.Clean != nil:
		return "clean"
	case s.Features != nil:
		return "features"
	}
	return ""
}

// Table declares that a stage's output is kept as a table keyed by Key.
type Table struct {
	Key []string `json:"key"`
	TTL Duration `json:"ttl,omitempty" doc:"Forget a key not updated for this long. 0 = keep."`
	Pos Pos      `json:"-"`
}

// StateLimits bounds the keyed state of a stage.
type StateLimits struct {
	MaxKeys int      `json:"maxKeys,omitempty" doc:"Most keys held; past it new keys are dead-lettered with class state-limit."`
	TTL     Duration `json:"ttl,omitempty" doc:"Expire a key's state when idle this long (event time)."`
}

// Clean is a data-cleaning stage. Steps run in the order dedup, impute,
// outliers, filter.
type Clean struct {
	Dedup      *Dedup    `json:"dedup,omitempty"`
	Impute     []Impute  `json:"impute,omitempty" doc:"A mapping of column to method or {method, value, by}."`
	Outliers   []Outlier `json:"outliers,omitempty" doc:"A mapping of column to {method, threshold, lower, upper, action}."`
	Filter     *Text     `json:"filter,omitempty" doc:"expr-lang predicate; rows where it is false are dropped."`
	DeadLetter bool      `json:"deadLetter,omitempty" doc:"Send dropped rows to the dead-letter stream with class clean."`
	Pos        Pos       `json:"-"`
}

// Dedup drops a row whose key was seen within a time bound.
type Dedup struct {
	Key    []string `json:"key"`
	Within Duration `json:"within"`
	Pos    Pos      `json:"-"`
}

// Impute fills NULLs of one column.
type Impute struct {
	Column string   `json:"column"`
	Method string   `json:"method" enum:"mean,median,most_frequent,constant,previous"`
	Value  any      `json:"value,omitempty" doc:"The constant for method constant."`
	By     []string `json:"by,omitempty" doc:"Keep statistics per key."`
	Pos    Pos      `json:"-"`
}

// Outlier detects and handles outliers of one numeric column.
type Outlier struct {
	Column    string   `json:"column"`
	Method    string   `json:"method" enum:"zscore,iqr,bounds"`
	Threshold float64  `json:"threshold,omitempty" doc:"z for zscore (default 3), k for iqr (default 1.5)."`
	Lower     *float64 `json:"lower,omitempty"`
	Upper     *float64 `json:"upper,omitempty"`
	Action    string   `json:"action,omitempty" enum:"drop,clip,flag" default:"drop"`
	Pos       Pos      `json:"-"`
}

// Feature is one transform of a features stage; exactly one field is set.
type Feature struct {
	OneHot *OneHot        `json:"onehot,omitempty"`
	Hash   *HashFeature   `json:"hash,omitempty"`
	Scale  *Scale         `json:"scale,omitempty"`
	TFIDF  *TFIDF         `json:"tfidf,omitempty"`
	Window *WindowFeature `json:"window,omitempty"`
	Pos    Pos            `json:"-"`
}

// OneHot encodes a categorical column as a vector.
type OneHot struct {
	Input         string   `json:"input"`
	Output        string   `json:"output,omitempty"`
	Categories    []string `json:"categories,omitempty" doc:"Fixed categories; learned online when omitted (up to maxCategories)."`
	MaxCategories int      `json:"maxCategories,omitempty" default:"64"`
}

// HashFeature hashes categorical columns into a vector of Dims.
type HashFeature struct {
	Inputs []string `json:"inputs"`
	Dims   int      `json:"dims" default:"1024"`
	Output string   `json:"output"`
}

// Scale standardizes numeric columns with online statistics.
type Scale struct {
	Inputs  []string `json:"inputs"`
	Method  string   `json:"method,omitempty" enum:"standard,minmax" default:"standard"`
	Outputs []string `json:"outputs,omitempty" doc:"Output names; default replaces the inputs."`
}

// TFIDF turns a text column into a hashed TF-IDF vector.
type TFIDF struct {
	Input  string `json:"input"`
	Output string `json:"output"`
	Dims   int    `json:"dims,omitempty" default:"65536"`
	Ngrams int    `json:"ngrams,omitempty" default:"1"`
}

// WindowFeature computes time-series features per key over the last Size
// points (or Duration).
type WindowFeature struct {
	Key      []string `json:"key,omitempty"`
	Input    string   `json:"input"`
	Size     int      `json:"size,omitempty" default:"32"`
	Duration Duration `json:"duration,omitempty"`
	Stats    []string `json:"stats,omitempty" enum:"mean,std,min,max,slope,last"`
	Lags     int      `json:"lags,omitempty"`
	FFT      int      `json:"fft,omitempty" doc:"Magnitudes of the first k FFT bins."`
	Output   string   `json:"output"`
}

// Model is a model trained and/or used by the pipeline.
type Model struct {
	Name       string           `json:"name"`
	Algorithm  string           `json:"algorithm"`
	From       string           `json:"from,omitempty" doc:"Stage or source with the features (and label) to train on."`
	Features   []string         `json:"features,omitempty"`
	Label      string           `json:"label,omitempty"`
	Params     map[string]any   `json:"params,omitempty" doc:"Hyper-parameters of the algorithm."`
	Training   *Training        `json:"training,omitempty"`
	Evaluation *Evaluation      `json:"evaluation,omitempty"`
	Tuning     *Tuning          `json:"tuning,omitempty"`
	Candidates []map[string]any `json:"candidates,omitempty" doc:"Hyper-parameter sets trained side by side online; the best is promoted."`
	Seed       int64            `json:"seed,omitempty"`
	Pos        Pos              `json:"-"`
	// ParamPos is the position of each key of Params (and of hyper-parameters
	// written inside training:), for validation errors.
	ParamPos map[string]Pos `json:"-"`
}

// Training says how and when a model learns.
type Training struct {
	Mode         string   `json:"mode,omitempty" enum:"online,batch,windowed" default:"online"`
	PublishEvery string   `json:"publishEvery,omitempty" doc:"Publish a new version every N rows (e.g. 1000) or duration (e.g. 1m)."`
	Warmup       int      `json:"warmup,omitempty" doc:"Rows learned before the model scores."`
	Window       Duration `json:"window,omitempty" doc:"Tumbling window for mode windowed."`
	Pos          Pos      `json:"-"`
}

// Evaluation configures prequential metrics.
type Evaluation struct {
	Metrics []string `json:"metrics,omitempty"`
	Window  Duration `json:"window,omitempty"`
}

// Tuning configures hyper-parameter search for batch training.
type Tuning struct {
	Method     string         `json:"method" enum:"grid,random"`
	Trials     int            `json:"trials,omitempty"`
	Seed       int64          `json:"seed,omitempty"`
	Params     map[string]any `json:"params" doc:"Per parameter: a list of values (grid/choice) or {min, max, log}."`
	Metric     string         `json:"metric,omitempty"`
	Validation *Validation    `json:"validation,omitempty"`
	Pos        Pos            `json:"-"`
}

// Validation is k-fold or holdout validation.
type Validation struct {
	KFold   int     `json:"kfold,omitempty"`
	Holdout float64 `json:"holdout,omitempty"`
}

// Sink writes a stage's rows to JetStream.
type Sink struct {
	Name      string         `json:"name"`
	From      string         `json:"from"`
	Where     *Text          `json:"where,omitempty" doc:"expr-lang predicate over the row."`
	JetStream *JetStreamSink `json:"jetstream,omitempty"`
	KV        *KVSink        `json:"kv,omitempty"`
	Format    string         `json:"format,omitempty" enum:"json,csv" default:"json"`
	Pos       Pos            `json:"-"`
	FromPos   Pos            `json:"-"`
}

// JetStreamSink names the stream and subject a sink publishes to.
type JetStreamSink struct {
	Stream  string `json:"stream"`
	Subject string `json:"subject"`
}

// KVSink keeps the latest row per key in a JetStream KV bucket.
type KVSink struct {
	Bucket string   `json:"bucket"`
	Key    []string `json:"key,omitempty"`
}
