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
	Metadata   Metadata     `json:"metadata" doc:"Name and labels."`
	Spec       PipelineSpec `json:"spec" doc:"Sources, functions, stages, models and sinks."`

	// Pos is the position of the document's first node.
	Pos Pos `json:"-"`
	// Src is the whole text of the file the document came from (for snippets).
	Src []byte `json:"-"`

	// src maps offsets to positions; pos holds the position of every value
	// by path (see PosOf). Both are set by the decoder.
	src  *srcMap
	pos  map[string]Pos
	opts *options     // the options it was decoded with (limits for Validate)
	bad  map[Pos]bool // positions of values the decoder reported errors for
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
	Sources     []Source   `json:"sources" doc:"Streams the pipeline reads."`
	Functions   []Function `json:"functions,omitempty" doc:"User functions in expr-lang, callable from SQL, filters and where."`
	Stages      []Stage    `json:"stages,omitempty" doc:"SQL, cleaning and feature stages."`
	Models      []Model    `json:"models,omitempty" doc:"Models trained and used (PREDICT) by the pipeline."`
	Sinks       []Sink     `json:"sinks,omitempty" doc:"Where results are written."`
}

// Source is a stream of records read from JetStream.
type Source struct {
	Name            string           `json:"name" doc:"Name used by from: and SQL FROM."`
	JetStream       *JetStreamSource `json:"jetstream,omitempty" doc:"The JetStream stream to read."`
	Format          string           `json:"format,omitempty" doc:"Encoding of each message." enum:"json,csv" default:"json"`
	CSV             *CSVOptions      `json:"csv,omitempty" doc:"CSV options when format is csv."`
	TimestampFormat string           `json:"timestampFormat,omitempty" doc:"How every timestamp column of the source is written. auto: RFC 3339 / ISO 8601 strings (T or a space between date and time, optional fraction, Z, a numeric offset, or no zone = UTC; a bare date YYYY-MM-DD is midnight UTC) and integers of epoch milliseconds. epochSeconds, epochMillis, epochMicros, epochNanos: numbers (a fraction is allowed; also as strings, e.g. in CSV). Anything else is a Go time layout such as 2006-01-02 15:04:05 or 02/01/2006 15:04 (UTC unless it has a zone)." default:"auto" names:"auto,epochSeconds,epochMillis,epochMicros,epochNanos" pattern:"06"`
	Schema          []Column         `json:"schema" doc:"Columns in order: a mapping of name to type or {type, nullable}."`
	EventTime       *EventTime       `json:"eventTime,omitempty" doc:"Event-time column and watermark; without it rows are in processing time."`
	StartFrom       string           `json:"startFrom,omitempty" doc:"earliest, latest or an RFC 3339 time." default:"earliest"`
	Pos             Pos              `json:"-"`
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
	Delimiter string `json:"delimiter,omitempty" doc:"Field separator, one character (\\t: tab-separated)." default:","`
	// Quote is the quote character: "" or `"` (RFC 4180, read leniently),
	// CSVQuoteNone (no quoting: a field is the text up to the delimiter)
	// or one other ASCII character. See CheckCSVQuote.
	Quote string `json:"quote,omitempty" doc:"Quote character. A field that starts with it is quoted: a delimiter inside is text and a doubled quote is one quote; a quote elsewhere is text. none: no quoting, every character up to the delimiter is field text, quotes included (tab-separated exports whose text may start with or hold a quote). Or another single ASCII character, such as '." default:"\"" names:"none" pattern:"^[!-~]$"`
}

// Column is one column of a source schema.
type Column struct {
	Name     string   `json:"name" doc:"Column name."`
	Type     udf.Type `json:"type" doc:"Column type."`
	Nullable bool     `json:"nullable,omitempty" doc:"The column may be NULL."`
	Pos      Pos      `json:"-"`
}

// EventTime declares the event-time column of a source and its watermark.
type EventTime struct {
	Column            string   `json:"column" doc:"A timestamp column of the schema."`
	MaxOutOfOrderness Duration `json:"maxOutOfOrderness,omitempty" doc:"Watermark = max event time seen - this." default:"0s"`
	IdleTimeout       Duration `json:"idleTimeout,omitempty" doc:"A live source whose stream has no new data for this long is idle and stops holding the watermark back (a backlog is never idle; a bounded run never goes idle). 0 = never."`
	AllowedLateness   Duration `json:"allowedLateness,omitempty" doc:"Rows older than watermark - this are late (dead-lettered with class late)."`
	Pos               Pos      `json:"-"`
}

// Function is a user function written in expr-lang.
type Function struct {
	Name    string  `json:"name" doc:"Name used in SQL and expressions; must not shadow a built-in."`
	Params  []Param `json:"params,omitempty" doc:"Parameter names, or {name, type} mappings."`
	Returns string  `json:"returns,omitempty" doc:"Return type; inferred when omitted."`
	Expr    Text    `json:"expr" doc:"expr-lang expression over the parameters."`
	Pos     Pos     `json:"-"`
}

// Param is a parameter of a user function. Type is empty when inferred.
type Param struct {
	Name string `json:"name" doc:"Parameter name."`
	Type string `json:"type,omitempty" doc:"Parameter type (bigint, double, string, bool, timestamp, vector); inferred when omitted."`
	Pos  Pos    `json:"-"`
}

// Stage is a named step of the pipeline. Exactly one of SQL, Clean and
// Features is set.
type Stage struct {
	Name     string       `json:"name" doc:"Name used by from: and SQL FROM/JOIN."`
	From     string       `json:"from,omitempty" doc:"Input of a clean or features stage (SQL stages name theirs in FROM)."`
	SQL      *Text        `json:"sql,omitempty" doc:"A streaming SQL SELECT (see docs/sql.md)."`
	Clean    *Clean       `json:"clean,omitempty" doc:"A cleaning stage."`
	Features []Feature    `json:"features,omitempty" doc:"A feature stage: a list of transforms applied in order."`
	Table    *Table       `json:"table,omitempty" doc:"Keep the latest row per key, joinable as a table."`
	Limits   *StateLimits `json:"limits,omitempty" doc:"Bounds of the stage's keyed state."`
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
	Key []string `json:"key" doc:"Key columns of the table."`
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
	Dedup      *Dedup    `json:"dedup,omitempty" doc:"Drop duplicate rows by key within a time bound."`
	Impute     []Impute  `json:"impute,omitempty" doc:"A mapping of column to method or {method, value, by}."`
	Outliers   []Outlier `json:"outliers,omitempty" doc:"A mapping of column to {method, threshold, lower, upper, action}."`
	Filter     *Text     `json:"filter,omitempty" doc:"expr-lang predicate; rows where it is false are dropped."`
	DeadLetter bool      `json:"deadLetter,omitempty" doc:"Send dropped rows to the dead-letter stream with class clean."`
	Pos        Pos       `json:"-"`
}

// Dedup drops a row whose key was seen within a time bound.
type Dedup struct {
	Key    []string `json:"key" doc:"Columns that identify a row."`
	Within Duration `json:"within" doc:"How long a key is remembered (event time)."`
	Pos    Pos      `json:"-"`
}

// Impute fills NULLs of one column.
type Impute struct {
	Column string   `json:"column" doc:"The column to fill."`
	Method string   `json:"method" doc:"How to fill it; statistics are kept online." enum:"mean,median,most_frequent,constant,previous"`
	Value  any      `json:"value,omitempty" doc:"The constant for method constant."`
	By     []string `json:"by,omitempty" doc:"Keep statistics per key."`
	Pos    Pos      `json:"-"`
}

// Outlier detects and handles outliers of one numeric column.
type Outlier struct {
	Column    string   `json:"column" doc:"The numeric column."`
	Method    string   `json:"method" doc:"zscore: |x-mean|/std > threshold; iqr: outside [Q1-k*IQR, Q3+k*IQR]; bounds: outside [lower, upper]." enum:"zscore,iqr,bounds"`
	Threshold float64  `json:"threshold,omitempty" doc:"z for zscore (default 3), k for iqr (default 1.5)."`
	Lower     *float64 `json:"lower,omitempty" doc:"Lower bound for method bounds."`
	Upper     *float64 `json:"upper,omitempty" doc:"Upper bound for method bounds."`
	Action    string   `json:"action,omitempty" doc:"What to do with an outlier: drop the row, clip the value, or flag it in a column <column>_outlier." enum:"drop,clip,flag" default:"drop"`
	Pos       Pos      `json:"-"`
}

// Feature is one transform of a features stage; exactly one field is set.
type Feature struct {
	OneHot *OneHot        `json:"onehot,omitempty" doc:"One-hot encoding."`
	Hash   *HashFeature   `json:"hash,omitempty" doc:"Feature hashing."`
	Scale  *Scale         `json:"scale,omitempty" doc:"Standard or min-max scaling."`
	TFIDF  *TFIDF         `json:"tfidf,omitempty" doc:"Hashed TF-IDF of a text column."`
	Window *WindowFeature `json:"window,omitempty" doc:"Time-series window features."`
	Pos    Pos            `json:"-"`
}

// OneHot encodes a categorical column as a vector.
type OneHot struct {
	Input         string   `json:"input" doc:"Categorical column."`
	Output        string   `json:"output,omitempty" doc:"Output vector column; default replaces the input."`
	Categories    []string `json:"categories,omitempty" doc:"Fixed categories; learned online when omitted (up to maxCategories)."`
	MaxCategories int      `json:"maxCategories,omitempty" doc:"Most categories learned online; others share one slot." default:"64"`
}

// HashFeature hashes categorical columns into a vector of Dims.
type HashFeature struct {
	Inputs []string `json:"inputs" doc:"Categorical columns."`
	Dims   int      `json:"dims" doc:"Vector size." default:"1024"`
	Output string   `json:"output" doc:"Output vector column."`
}

// Scale standardizes numeric columns with online statistics.
type Scale struct {
	Inputs  []string `json:"inputs" doc:"Numeric columns."`
	Method  string   `json:"method,omitempty" doc:"standard: (x-mean)/std; minmax: (x-min)/(max-min)." enum:"standard,minmax" default:"standard"`
	Outputs []string `json:"outputs,omitempty" doc:"Output names; default replaces the inputs."`
}

// TFIDF turns a text column into a hashed TF-IDF vector.
type TFIDF struct {
	Input  string `json:"input" doc:"Text column."`
	Output string `json:"output" doc:"Output vector column; default replaces the input."`
	Dims   int    `json:"dims,omitempty" doc:"Vector size (hashing)." default:"65536"`
	Ngrams int    `json:"ngrams,omitempty" doc:"Largest n-gram (1 = words only)." default:"1"`
}

// WindowFeature computes time-series features per key over the last Size
// points (or Duration).
type WindowFeature struct {
	Key      []string `json:"key,omitempty" doc:"Keep a window per key."`
	Input    string   `json:"input" doc:"Numeric column."`
	Size     int      `json:"size,omitempty" doc:"Points in the window." default:"32"`
	Duration Duration `json:"duration,omitempty" doc:"Window by time instead of points."`
	Stats    []string `json:"stats,omitempty" doc:"Statistics over the window." enum:"mean,std,min,max,slope,last"`
	Lags     int      `json:"lags,omitempty" doc:"Include the last k values."`
	FFT      int      `json:"fft,omitempty" doc:"Magnitudes of the first k FFT bins."`
	Output   string   `json:"output" doc:"Output vector column (stats, lags, then FFT magnitudes); default replaces the input."`
}

// Model is a model trained and/or used by the pipeline.
type Model struct {
	Name       string           `json:"name" doc:"Name used by PREDICT(name, ...) and the model registry."`
	Algorithm  string           `json:"algorithm" doc:"One of the algorithms of docs/ml-reference.md, e.g. logistic_regression."`
	From       string           `json:"from,omitempty" doc:"Stage or source with the features (and label) to train on."`
	Features   []string         `json:"features,omitempty" doc:"Feature columns, in order (also the order of PREDICT's arguments)."`
	Label      string           `json:"label,omitempty" doc:"Label column (not for unsupervised algorithms)."`
	Params     map[string]any   `json:"params,omitempty" doc:"Hyper-parameters of the algorithm."`
	Training   *Training        `json:"training,omitempty" doc:"How and when the model learns."`
	Evaluation *Evaluation      `json:"evaluation,omitempty" doc:"Prequential metrics."`
	Tuning     *Tuning          `json:"tuning,omitempty" doc:"Hyper-parameter search (batch training)."`
	Candidates []map[string]any `json:"candidates,omitempty" doc:"Hyper-parameter sets trained side by side online; the best is promoted."`
	Seed       int64            `json:"seed,omitempty" doc:"Random seed; models are deterministic for a seed."`
	Pos        Pos              `json:"-"`
	// ParamPos is the position of each key of Params (and of hyper-parameters
	// written inside training:), for validation errors.
	ParamPos map[string]Pos `json:"-"`
}

// Training says how and when a model learns.
type Training struct {
	Mode         string   `json:"mode,omitempty" enum:"online,batch,windowed" default:"online"`
	PublishEvery string   `json:"publishEvery,omitempty" types:"string,integer" doc:"Publish a new version every N rows (e.g. 1000) or duration (e.g. 1m)."`
	Warmup       int      `json:"warmup,omitempty" doc:"Rows learned before the model scores."`
	Window       Duration `json:"window,omitempty" doc:"Tumbling window for mode windowed."`
	Pos          Pos      `json:"-"`
}

// Evaluation configures prequential metrics.
type Evaluation struct {
	Metrics []string `json:"metrics,omitempty" doc:"Metrics, e.g. auc, logloss, accuracy, f1, rmse, mae."`
	Window  Duration `json:"window,omitempty" doc:"Report metrics over this sliding window; 0 = since start."`
}

// Tuning configures hyper-parameter search for batch training.
type Tuning struct {
	Method     string         `json:"method" doc:"grid: every combination; random: trials samples." enum:"grid,random"`
	Trials     int            `json:"trials,omitempty" doc:"Samples for method random."`
	Seed       int64          `json:"seed,omitempty" doc:"Random seed of the search."`
	Params     map[string]any `json:"params" doc:"Per parameter: a list of values (grid/choice) or {min, max, log}."`
	Metric     string         `json:"metric,omitempty" doc:"Metric to maximize (loss metrics are minimized)."`
	Validation *Validation    `json:"validation,omitempty" doc:"k-fold or holdout validation."`
	Pos        Pos            `json:"-"`
}

// Validation is k-fold or holdout validation.
type Validation struct {
	KFold   int     `json:"kfold,omitempty" doc:"Number of folds."`
	Holdout float64 `json:"holdout,omitempty" doc:"Fraction held out, in (0, 1)."`
}

// Sink writes a stage's rows to JetStream.
type Sink struct {
	Name      string         `json:"name" doc:"Sink name."`
	From      string         `json:"from" doc:"The stage or source to write."`
	Where     *Text          `json:"where,omitempty" doc:"expr-lang predicate over the row."`
	JetStream *JetStreamSink `json:"jetstream,omitempty" doc:"Publish to a JetStream subject."`
	KV        *KVSink        `json:"kv,omitempty" doc:"Keep the latest row per key in a KV bucket."`
	Format    string         `json:"format,omitempty" doc:"Encoding of each message." enum:"json,csv" default:"json"`
	Pos       Pos            `json:"-"`
	FromPos   Pos            `json:"-"`
}

// JetStreamSink names the stream and subject a sink publishes to.
type JetStreamSink struct {
	Stream  string `json:"stream" doc:"Stream name; created if missing."`
	Subject string `json:"subject" doc:"Subject to publish to."`
	// DuplicateWindow is the stream's duplicate window when flowrun
	// creates the stream (zero: DefaultDuplicateWindow).
	DuplicateWindow Duration `json:"duplicateWindow,omitempty" doc:"How long the stream remembers Nats-Msg-Ids to drop replayed rows, when flowrun creates it; costs about 200 bytes of server memory per message published within the window." default:"2m"`
}

// KVSink keeps the latest row per key in a JetStream KV bucket.
type KVSink struct {
	Bucket string   `json:"bucket" doc:"KV bucket; created if missing."`
	Key    []string `json:"key,omitempty" doc:"Key columns; default the stage's table or group key."`
}
