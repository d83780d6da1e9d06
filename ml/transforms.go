package ml

import "sort"

// Transform describes one feature or cleaning transform a job can name,
// with its options, so that the planner validates them and the reference
// is generated (the Go types are StandardScaler, MinMaxScaler, Imputer,
// CategoryImputer, OneHot, Hasher, TFIDF and Window).
type Transform struct {
	Name   string
	Doc    string
	Params []Param
}

// Validate checks options against the transform's parameters (same rules
// and messages as Algorithm.Validate).
func (t *Transform) Validate(params map[string]any) []ParamError {
	return validateParams(t.Name, t.Params, params)
}

// Transforms is the table of transforms, sorted by name.
var Transforms = []*Transform{
	{Name: "hash", Doc: "Feature hashing of categorical columns into a sparse vector (Hasher).", Params: []Param{
		{Name: "dims", Type: TypeInt, Default: 1024, Min: ptr(1), Max: ptr(1 << 24), Doc: "Output dimension."},
		{Name: "signed", Type: TypeBool, Default: true, Doc: "Hash a ±1 sign too, so that collisions cancel in expectation."},
	}},
	{Name: "impute", Doc: "Fill missing values with a statistic learned online (Imputer, CategoryImputer).", Params: []Param{
		{Name: "strategy", Type: TypeString, Default: "mean", Enum: ImputeStrategies,
			Doc: "mean, median (quantile sketch), most_frequent, constant or previous value."},
		{Name: "constant", Type: TypeString, Default: "", Doc: "Fill value for constant (and before any value is seen); numbers are parsed."},
	}},
	{Name: "onehot", Doc: "One-hot encoding of a categorical column into a sparse vector (OneHot).", Params: []Param{
		{Name: "max_categories", Type: TypeInt, Default: 64, Min: ptr(1), Max: ptr(1 << 20),
			Doc: "Categories kept in order of appearance; others share one extra slot."},
	}},
	{Name: "outliers", Doc: "Detect outliers of a numeric column with online limits and drop, clip or flag them (Outliers).", Params: []Param{
		{Name: "method", Type: TypeString, Default: "zscore", Enum: OutlierMethods,
			Doc: "zscore: μ ± threshold·σ; iqr: Tukey fences Q1 − k·IQR, Q3 + k·IQR (quantile sketch); bounds: [min, max]."},
		{Name: "threshold", Type: TypeFloat, Default: 3.0, Min: ptr(0), Doc: "zscore limit."},
		{Name: "k", Type: TypeFloat, Default: 1.5, Min: ptr(0), Doc: "iqr fence factor."},
		{Name: "min", Type: TypeFloat, Default: 0.0, Doc: "bounds: lower limit."},
		{Name: "max", Type: TypeFloat, Default: 0.0, Doc: "bounds: upper limit."},
		{Name: "action", Type: TypeString, Default: "flag", Enum: []string{"drop", "clip", "flag"},
			Doc: "What the clean stage does with an outlier."},
	}},
	{Name: "scale", Doc: "Online scaling of numeric columns (StandardScaler, MinMaxScaler).", Params: []Param{
		{Name: "method", Type: TypeString, Default: "standard", Enum: []string{"standard", "minmax"},
			Doc: "standard: (x − μ)/σ; minmax: (x − min)/(max − min)."},
		{Name: "clip", Type: TypeBool, Default: false, Doc: "minmax only: clip results to [0, 1]."},
	}},
	{Name: "tfidf", Doc: "TF-IDF of a text column over hashed word n-grams, idf learned online or from a batch (TFIDF).", Params: []Param{
		{Name: "dims", Type: TypeInt, Default: 65536, Min: ptr(1), Max: ptr(1 << 24), Doc: "Output dimension (hashing trick)."},
		{Name: "ngrams", Type: TypeInt, Default: 1, Min: ptr(1), Max: ptr(5), Doc: "Longest word n-gram."},
		{Name: "sublinear", Type: TypeBool, Default: false, Doc: "Use 1 + ln tf instead of tf."},
	}},
	{Name: "window", Doc: "Time-series features over the last size values per key: statistics, lags and FFT magnitudes (Window).", Params: []Param{
		{Name: "size", Type: TypeInt, Default: 64, Min: ptr(1), Max: ptr(1 << 20), Doc: "Number of most recent values."},
		{Name: "stats", Type: TypeStrings, Default: []string{"mean", "std"}, Enum: WindowStats, Doc: "Statistics, in output order."},
		{Name: "lags", Type: TypeInt, Default: 0, Min: ptr(0), Max: ptr(1 << 20), Doc: "Lagged values lag_1..lag_n (≤ size)."},
		{Name: "fft", Type: TypeInt, Default: 0, Min: ptr(0), Max: ptr(1 << 19), Doc: "Magnitudes of the first fft DFT bins (≤ size/2+1)."},
	}},
}

// LookupTransform returns the transform with the given name.
func LookupTransform(name string) (*Transform, bool) {
	i := sort.Search(len(Transforms), func(i int) bool { return Transforms[i].Name >= name })
	if i < len(Transforms) && Transforms[i].Name == name {
		return Transforms[i], true
	}
	return nil, false
}
