package udf

// builtins is the table of built-in scalar functions. Each row is the whole
// truth about a function: its signature (from which the type checker is
// derived unless Check is set), NULL rule, documentation, examples (run as
// tests, printed in docs/functions.md and by `flowrun functions`) and
// implementation (builtins_*.go).
//
// In examples, TIMESTAMP '2026-03-01 10:30:00' stands for a timestamp value
// (UTC) and VECTOR(...) builds a vector.
var builtins = []*Func{
	// ---- String ----
	{
		Name: "LOWER", Category: catString, Aliases: []string{"LCASE"},
		Signature: "LOWER(s string) string",
		Doc:       "Returns s with all Unicode letters mapped to lower case.",
		Examples:  []Example{{"LOWER('FlowRun')", `"flowrun"`}},
		Eval:      evalLower,
	},
	{
		Name: "UPPER", Category: catString, Aliases: []string{"UCASE"},
		Signature: "UPPER(s string) string",
		Doc:       "Returns s with all Unicode letters mapped to upper case.",
		Examples:  []Example{{"UPPER('FlowRun')", `"FLOWRUN"`}},
		Eval:      evalUpper,
	},
	{
		Name: "SUBSTRING", Category: catString, Aliases: []string{"SUBSTR"},
		Signature: "SUBSTRING(s string, start bigint [, len bigint]) string",
		Doc: "Returns the characters of s from position start (1-based; a negative start counts from the end) " +
			"for len characters, or to the end without len. Start 0, a start past the end or len < 1 give ''.",
		SQLForms: []string{"SUBSTRING(s FROM start FOR len)", "SUBSTR(s, start, len)"},
		Examples: []Example{
			{"SUBSTRING('flowrun', 1, 4)", `"flow"`},
			{"SUBSTRING('flowrun', 5)", `"run"`},
			{"SUBSTRING('flowrun', -3, 2)", `"ru"`},
			{"SUBSTRING('flowrun', 0)", `""`},
		},
		Eval: evalSubstring,
	},
	{
		Name: "CONCAT", Category: catString,
		Signature: "CONCAT(x any...) string",
		Doc:       "Concatenates its arguments; numbers, bools and timestamps are formatted as text. NULL if any argument is NULL (as in MySQL).",
		Examples: []Example{
			{"CONCAT('flow', 'run', 2)", `"flowrun2"`},
			{"CONCAT('a', NULL)", "NULL"},
		},
		Eval: evalConcat,
	},
	{
		Name: "CONCAT_WS", Category: catString, Nulls: NullCustom,
		Signature: "CONCAT_WS(sep string, x any...) string",
		Doc:       "Concatenates the arguments after sep, with sep between them. NULL arguments are skipped; a NULL sep gives NULL.",
		Examples: []Example{
			{"CONCAT_WS('-', 'a', NULL, 'b', 3)", `"a-b-3"`},
			{"CONCAT_WS(NULL, 'a', 'b')", "NULL"},
		},
		Eval: evalConcatWS,
	},
	{
		Name: "LENGTH", Category: catString, Aliases: []string{"CHAR_LENGTH", "CHARACTER_LENGTH"},
		Signature: "LENGTH(s string) bigint",
		Doc:       "Returns the number of characters (Unicode code points) of s, not bytes.",
		Examples:  []Example{{"LENGTH('flowrun')", "7"}, {"LENGTH('héllo')", "5"}, {"LENGTH('')", "0"}},
		Eval:      evalLength,
	},
	{
		Name: "TRIM", Category: catString,
		Signature: "TRIM(s string [, chars string]) string",
		Doc:       "Removes leading and trailing white space from s, or every character in chars when given.",
		Examples:  []Example{{"TRIM('  flow run ')", `"flow run"`}, {"TRIM('xxflowxx', 'x')", `"flow"`}},
		Eval:      evalTrim,
	},
	{
		Name: "REPLACE", Category: catString,
		Signature: "REPLACE(s string, from string, to string) string",
		Doc:       "Replaces every occurrence of from in s with to. An empty from leaves s unchanged.",
		Examples:  []Example{{"REPLACE('a-b-c', '-', '+')", `"a+b+c"`}, {"REPLACE('abc', '', 'x')", `"abc"`}},
		Eval:      evalReplace,
	},
	{
		Name: "REGEXP_LIKE", Category: catString,
		Signature: "REGEXP_LIKE(s string, pattern string) bool",
		Doc: "Reports whether s contains a match of the regular expression pattern (RE2 syntax: " +
			"https://github.com/google/re2/wiki/Syntax; anchor with ^ and $ to match the whole string). " +
			"An invalid pattern is a runtime error of class expr.",
		Examples: []Example{
			{"REGEXP_LIKE('order-123', '[0-9]+$')", "true"},
			{"REGEXP_LIKE('order', '^[0-9]+$')", "false"},
			{"REGEXP_LIKE('x', '(')", "error: missing closing )"},
		},
		Eval: evalRegexpLike, ConstCheck: constPattern("REGEXP_LIKE", 1),
	},
	{
		Name: "REGEXP_EXTRACT", Category: catString,
		Signature: "REGEXP_EXTRACT(s string, pattern string [, group bigint]) string",
		Doc: "Returns the first match of pattern (RE2 syntax) in s: capture group group when given " +
			"(0 is the whole match), else group 1 if the pattern has a capture group, else the whole match. " +
			"NULL when there is no match or the group did not participate.",
		Examples: []Example{
			{"REGEXP_EXTRACT('order-123-x', '[0-9]+')", `"123"`},
			{"REGEXP_EXTRACT('k=v', '([a-z]+)=([a-z]+)', 2)", `"v"`},
			{"REGEXP_EXTRACT('abc', '[0-9]+')", "NULL"},
		},
		Eval: evalRegexpExtract, ConstCheck: constPattern("REGEXP_EXTRACT", 1),
	},
	{
		Name: "SPLIT_PART", Category: catString,
		Signature: "SPLIT_PART(s string, delim string, n bigint) string",
		Doc: "Splits s at each delim and returns part n (1-based; negative n counts from the end). " +
			"'' when there is no such part; NULL when n is 0. An empty delim treats s as one part.",
		Examples: []Example{
			{"SPLIT_PART('a,b,c', ',', 2)", `"b"`},
			{"SPLIT_PART('a,b,c', ',', -1)", `"c"`},
			{"SPLIT_PART('a,b,c', ',', 5)", `""`},
		},
		Eval: evalSplitPart,
	},
	{
		Name: "STARTS_WITH", Category: catString,
		Signature: "STARTS_WITH(s string, prefix string) bool",
		Doc:       "Reports whether s begins with prefix.",
		Examples:  []Example{{"STARTS_WITH('flowrun', 'flow')", "true"}, {"STARTS_WITH('flowrun', 'run')", "false"}},
		Eval:      evalStartsWith,
	},

	// ---- Math ----
	{
		Name: "ABS", Category: catMath,
		Signature: "ABS(x numeric) numeric",
		Doc:       "Returns the absolute value of x. ABS of the smallest bigint is an overflow error.",
		Examples:  []Example{{"ABS(-3)", "3"}, {"ABS(-2.5)", "2.5"}, {"ABS(-9223372036854775808)", "error: overflow"}},
		Eval:      evalAbs,
	},
	{
		Name: "ROUND", Category: catMath,
		Signature: "ROUND(x numeric [, d bigint]) numeric",
		Doc: "Rounds x to d decimal places (default 0), halves away from zero. A negative d rounds to tens, " +
			"hundreds, ...; a bigint stays a bigint.",
		Examples: []Example{
			{"ROUND(2.5)", "3"}, {"ROUND(-2.5)", "-3"}, {"ROUND(3.14159, 2)", "3.14"}, {"ROUND(1234, -2)", "1200"},
		},
		Eval: evalRound,
	},
	{
		Name: "FLOOR", Category: catMath,
		Signature: "FLOOR(x numeric) numeric",
		Doc:       "Returns the largest integer value not greater than x, of the type of x.",
		Examples:  []Example{{"FLOOR(2.7)", "2"}, {"FLOOR(-2.5)", "-3"}, {"FLOOR(7)", "7"}},
		Eval:      evalFloor,
	},
	{
		Name: "CEIL", Category: catMath, Aliases: []string{"CEILING"},
		Signature: "CEIL(x numeric) numeric",
		Doc:       "Returns the smallest integer value not less than x, of the type of x.",
		Examples:  []Example{{"CEIL(2.1)", "3"}, {"CEIL(-2.5)", "-2"}},
		Eval:      evalCeil,
	},
	{
		Name: "LN", Category: catMath,
		Signature: "LN(x double) double",
		Doc:       "Returns the natural logarithm of x; NULL for x <= 0.",
		Examples:  []Example{{"LN(1)", "0"}, {"LN(0)", "NULL"}, {"LN(-1)", "NULL"}},
		Eval:      mathFn(logPositive(nat)),
	},
	{
		Name: "LOG10", Category: catMath,
		Signature: "LOG10(x double) double",
		Doc:       "Returns the base-10 logarithm of x; NULL for x <= 0.",
		Examples:  []Example{{"LOG10(1000)", "3"}, {"LOG10(0)", "NULL"}},
		Eval:      mathFn(logPositive(log10)),
	},
	{
		Name: "EXP", Category: catMath,
		Signature: "EXP(x double) double",
		Doc:       "Returns e raised to the power x; NULL when the result overflows a double.",
		Examples:  []Example{{"EXP(0)", "1"}, {"EXP(1000)", "NULL"}},
		Eval:      mathFn(exp),
	},
	{
		Name: "POWER", Category: catMath, Aliases: []string{"POW"},
		Signature: "POWER(x double, y double) double",
		Doc:       "Returns x raised to the power y; NULL when the result is not a finite number (overflow, 0 to a negative power, a negative number to a fractional power).",
		Examples:  []Example{{"POWER(2, 10)", "1024"}, {"POWER(0, -1)", "NULL"}, {"POWER(-8, 0.5)", "NULL"}},
		Eval:      evalPower,
	},
	{
		Name: "SQRT", Category: catMath,
		Signature: "SQRT(x double) double",
		Doc:       "Returns the square root of x; NULL for negative x.",
		Examples:  []Example{{"SQRT(16)", "4"}, {"SQRT(-1)", "NULL"}},
		Eval:      mathFn(sqrt),
	},
	{
		Name: "SIGN", Category: catMath,
		Signature: "SIGN(x numeric) numeric",
		Doc:       "Returns -1, 0 or 1 as x is negative, zero or positive (of the type of x).",
		Examples:  []Example{{"SIGN(-7)", "-1"}, {"SIGN(0.0)", "0"}, {"SIGN(2.5)", "1"}},
		Eval:      evalSign,
	},
	{
		Name: "MOD", Category: catMath,
		Signature: "MOD(a numeric, b numeric) numeric",
		Doc:       "Returns the remainder of a divided by b, with the sign of a. NULL when b is 0 (as in MySQL).",
		Examples:  []Example{{"MOD(10, 3)", "1"}, {"MOD(-10, 3)", "-1"}, {"MOD(5.5, 2)", "1.5"}, {"MOD(1, 0)", "NULL"}},
		Eval:      evalMod,
	},
	{
		Name: "GREATEST", Category: catMath,
		Signature: "GREATEST(x T...) T",
		Doc:       "Returns the largest argument (numbers, strings, timestamps or bools, all of one kind; bigint and double mix as double). NULL if any argument is NULL (as in MySQL).",
		Examples:  []Example{{"GREATEST(1, 5, 3)", "5"}, {"GREATEST(1, 2.5)", "2.5"}, {"GREATEST('a', 'b')", `"b"`}, {"GREATEST(1, NULL)", "NULL"}},
		Check:     checkOrderedT("GREATEST(x T...) T"),
		Eval:      evalGreatest,
	},
	{
		Name: "LEAST", Category: catMath,
		Signature: "LEAST(x T...) T",
		Doc:       "Returns the smallest argument; see GREATEST. NULL if any argument is NULL.",
		Examples:  []Example{{"LEAST(4, 2, 8)", "2"}, {"LEAST(3, 1.5)", "1.5"}},
		Check:     checkOrderedT("LEAST(x T...) T"),
		Eval:      evalLeast,
	},

	// ---- Time ----
	{
		Name: "DATE_FORMAT", Category: catTime,
		Signature: "DATE_FORMAT(ts timestamp, format string) string",
		Doc: "Formats ts (UTC) with MySQL specifiers: %Y year, %y 2-digit year, %m month 01-12, %c month 1-12, " +
			"%d day 01-31, %e day 1-31, %H hour 00-23, %k hour 0-23, %h/%I hour 01-12, %i minutes, %s/%S seconds, " +
			"%f microseconds, %p AM/PM, %b Jan, %M January, %a Sun, %W Sunday, %j day of year, %T hh:mm:ss, %%. " +
			"Other characters are copied.",
		Examples: []Example{
			{"DATE_FORMAT(TIMESTAMP '2026-03-01 14:05:09', '%Y-%m-%d %H:%i:%s')", `"2026-03-01 14:05:09"`},
			{"DATE_FORMAT(TIMESTAMP '2026-03-01 14:05:09', '%a %b %e, %h %p')", `"Sun Mar 1, 02 PM"`},
		},
		Eval: evalDateFormat,
	},
	{
		Name: "EXTRACT", Category: catTime,
		Signature: "EXTRACT(unit string, ts timestamp) bigint",
		Doc: "Returns one field of ts (UTC). unit: YEAR, QUARTER, MONTH, WEEK (ISO 8601), DAY, DAYOFWEEK " +
			"(1 = Sunday ... 7 = Saturday, as in MySQL), DAYOFYEAR, HOUR, MINUTE, SECOND, MILLISECOND, EPOCH " +
			"(seconds). An unknown unit is a runtime error of class expr.",
		SQLForms: []string{"EXTRACT(HOUR FROM ts)", "EXTRACT('HOUR', ts)"},
		Examples: []Example{
			{"EXTRACT('HOUR', TIMESTAMP '2026-03-01 14:05:09')", "14"},
			{"EXTRACT('dayofweek', TIMESTAMP '2026-03-01 14:05:09')", "1"},
			{"EXTRACT('EPOCH', TIMESTAMP '1970-01-01 00:01:00')", "60"},
			{"EXTRACT('FORTNIGHT', TIMESTAMP '2026-03-01 14:05:09')", "error: unknown unit"},
		},
		Eval: evalExtract, ConstCheck: constUnit("EXTRACT", extractUnits...),
	},
	{
		Name: "TIMESTAMP_DIFF", Category: catTime, Aliases: []string{"TIMESTAMPDIFF"},
		Signature: "TIMESTAMP_DIFF(unit string, a timestamp, b timestamp) bigint",
		Doc: "Returns b - a in whole units, truncated toward zero (as MySQL TIMESTAMPDIFF). unit: MILLISECOND, " +
			"SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR; months, quarters and years count complete calendar months.",
		SQLForms: []string{"TIMESTAMP_DIFF(MINUTE, a, b)", "TIMESTAMPDIFF(MINUTE, a, b)", "TIMESTAMP_DIFF('MINUTE', a, b)"},
		Examples: []Example{
			{"TIMESTAMP_DIFF('MINUTE', TIMESTAMP '2026-03-01 10:00:00', TIMESTAMP '2026-03-01 11:30:59')", "90"},
			{"TIMESTAMP_DIFF('MONTH', TIMESTAMP '2026-01-31 00:00:00', TIMESTAMP '2026-02-28 00:00:00')", "0"},
			{"TIMESTAMP_DIFF('HOUR', TIMESTAMP '2026-03-01 12:00:00', TIMESTAMP '2026-03-01 10:30:00')", "-1"},
		},
		Eval: evalTimestampDiff, ConstCheck: constUnit("TIMESTAMP_DIFF", calendarUnits...),
	},
	{
		Name: "TIMESTAMP_ADD", Category: catTime, Aliases: []string{"TIMESTAMPADD"},
		Signature: "TIMESTAMP_ADD(unit string, n bigint, ts timestamp) timestamp",
		Doc: "Returns ts plus n units (n may be negative). unit as in TIMESTAMP_DIFF; adding months clamps " +
			"to the last day of the month (Jan 31 + 1 MONTH is Feb 28 or 29). Overflow is an error.",
		SQLForms: []string{"TIMESTAMP_ADD(HOUR, 2, ts)", "TIMESTAMPADD(HOUR, 2, ts)", "TIMESTAMP_ADD('HOUR', 2, ts)"},
		Examples: []Example{
			{"TIMESTAMP_ADD('HOUR', 2, TIMESTAMP '2026-03-01 23:00:00')", "2026-03-02T01:00:00.000Z"},
			{"TIMESTAMP_ADD('MONTH', 1, TIMESTAMP '2026-01-31 08:00:00')", "2026-02-28T08:00:00.000Z"},
		},
		Eval: evalTimestampAdd, ConstCheck: constUnit("TIMESTAMP_ADD", calendarUnits...),
	},
	{
		Name: "FROM_UNIXTIME", Category: catTime,
		Signature: "FROM_UNIXTIME(secs double) timestamp",
		Doc:       "Converts seconds since 1970-01-01 UTC (fractions kept to the millisecond) to a timestamp.",
		Examples:  []Example{{"FROM_UNIXTIME(0)", "1970-01-01T00:00:00.000Z"}, {"FROM_UNIXTIME(1772361000.25)", "2026-03-01T10:30:00.250Z"}},
		Eval:      evalFromUnixtime,
	},
	{
		Name: "UNIX_TIMESTAMP", Category: catTime,
		Signature: "UNIX_TIMESTAMP(ts timestamp) bigint",
		Doc:       "Returns ts as whole seconds since 1970-01-01 UTC (rounded down). The argument is required: the form without arguments would read the clock, which jobs may not.",
		Examples:  []Example{{"UNIX_TIMESTAMP(TIMESTAMP '2026-03-01 10:30:00')", "1772361000"}},
		Eval:      evalUnixTimestamp,
	},
	{
		Name: "DATE_TRUNC", Category: catTime,
		Signature: "DATE_TRUNC(unit string, ts timestamp) timestamp",
		Doc: "Truncates ts (UTC) to the start of its unit: MILLISECOND, SECOND, MINUTE, HOUR, DAY, WEEK " +
			"(Monday), MONTH, QUARTER, YEAR (any case).",
		SQLForms: []string{"DATE_TRUNC('hour', ts)"},
		Examples: []Example{
			{"DATE_TRUNC('hour', TIMESTAMP '2026-03-01 14:05:09')", "2026-03-01T14:00:00.000Z"},
			{"DATE_TRUNC('week', TIMESTAMP '2026-03-01 14:05:09')", "2026-02-23T00:00:00.000Z"},
			{"DATE_TRUNC('quarter', TIMESTAMP '2026-05-20 00:00:00')", "2026-04-01T00:00:00.000Z"},
		},
		Eval: evalDateTrunc, ConstCheck: constUnit("DATE_TRUNC", calendarUnits...),
	},

	// ---- Conditional ----
	{
		Name: "IF", Category: catCond, Nulls: NullCustom,
		Signature: "IF(cond bool, then T, else T) T",
		Doc:       "Returns then when cond is true, else else (a NULL cond counts as false). Only the chosen branch matters for the result, but both are evaluated.",
		Examples:  []Example{{"IF(TRUE, 1, 2)", "1"}, {"IF(NULL, 1, 2.5)", "2.5"}},
		Eval:      evalIf,
	},
	{
		Name: "COALESCE", Category: catCond, Nulls: NullCustom,
		Signature: "COALESCE(x T...) T",
		Doc:       "Returns the first argument that is not NULL, or NULL if all are NULL. Every argument is evaluated (an error in a later one still fails the row); the result has the unified type (COALESCE(NULL, 1, 2.5) is the double 1).",
		Examples:  []Example{{"COALESCE(NULL, 2, 3)", "2"}, {"COALESCE(NULL, 1, 2.5)", "1"}, {"COALESCE(NULL, NULL)", "NULL"}},
		Eval:      evalCoalesce,
	},
	{
		Name: "NULLIF", Category: catCond, Nulls: NullCustom,
		Signature: "NULLIF(a T, b T) T",
		Doc:       "Returns NULL when a equals b, else a.",
		Examples:  []Example{{"NULLIF(0, 0)", "NULL"}, {"NULLIF(5, 0)", "5"}, {"NULLIF(NULL, 1)", "NULL"}, {"NULLIF(1, NULL)", "1"}},
		Eval:      evalNullif,
	},

	// ---- Hashing ----
	{
		Name: "HASH", Category: catHash, Nulls: NullCustom,
		Signature: "HASH(x any...) bigint",
		Doc: "Returns a 64-bit FNV-1a hash of the arguments' types and values, the same on every machine and release. " +
			"NULL hashes as a value of its own (so HASH never returns NULL); 1 and 1.0 hash differently.",
		Examples: []Example{{"HASH('flowrun')", "4503537229194875052"}, {"HASH(NULL)", "-5808590958014384161"}},
		Eval:     evalHash,
	},
	{
		Name: "MD5", Category: catHash,
		Signature: "MD5(s string) string",
		Doc:       "Returns the MD5 digest of s's UTF-8 bytes as 32 lower-case hex digits (for fingerprints, not security).",
		Examples:  []Example{{"MD5('flowrun')", `"60cde7837f057239bcc18c7d92670de0"`}},
		Eval:      evalMD5,
	},
	{
		Name: "SHA256", Category: catHash, Aliases: []string{"SHA2"},
		Signature: "SHA256(s string) string",
		Doc:       "Returns the SHA-256 digest of s's UTF-8 bytes as 64 lower-case hex digits.",
		Examples:  []Example{{"SHA256('abc')", `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`}},
		Eval:      evalSHA256,
	},

	// ---- JSON ----
	{
		Name: "JSON_VALUE", Category: catJSON,
		Signature: "JSON_VALUE(json string, path string) string",
		Doc: "Returns the scalar at path in the JSON text json, as a string (numbers in their JSON spelling, " +
			"true/false). path is a JSONPath subset: $ then .key, ['key'] or [index] steps. NULL when the " +
			"text is not valid JSON, the path does not exist, or it names an object, array or null. An invalid " +
			"path is a runtime error of class expr.",
		Examples: []Example{
			{`JSON_VALUE('{"user":{"id":42,"tags":["a","b"]}}', '$.user.id')`, `"42"`},
			{`JSON_VALUE('{"user":{"id":42,"tags":["a","b"]}}', '$.user.tags[1]')`, `"b"`},
			{`JSON_VALUE('{"a":{"b":1}}', '$.a')`, "NULL"},
			{`JSON_VALUE('not json', '$.a')`, "NULL"},
			{`JSON_VALUE('{}', 'a')`, "error: path must start with $"},
		},
		Eval: evalJSONValue, ConstCheck: constJSONPath,
	},

	// ---- Vector ----
	{
		Name: "VECTOR", Category: catVector,
		Signature: "VECTOR(x double...) vector",
		Doc:       "Builds a vector of its arguments. NULL if any argument is NULL.",
		Examples:  []Example{{"VECTOR(1, 2.5, 3)", "[1,2.5,3]"}},
		Eval:      evalVector,
	},
	{
		Name: "VECTOR_NORM", Category: catVector,
		Signature: "VECTOR_NORM(v vector) double",
		Doc:       "Returns the Euclidean (L2) norm of v: sqrt(Σ v[i]²), computed without overflow for large components.",
		Examples:  []Example{{"VECTOR_NORM(VECTOR(3, 4))", "5"}},
		Eval:      evalVectorNorm,
	},
	{
		Name: "DOT", Category: catVector,
		Signature: "DOT(a vector, b vector) double",
		Doc:       "Returns the dot product Σ a[i]·b[i]. Vectors of different lengths are a runtime error of class expr.",
		Examples:  []Example{{"DOT(VECTOR(1, 2), VECTOR(3, 4))", "11"}, {"DOT(VECTOR(1), VECTOR(1, 2))", "error: lengths"}},
		Eval:      evalDot,
	},
	{
		Name: "COSINE_SIMILARITY", Category: catVector,
		Signature: "COSINE_SIMILARITY(a vector, b vector) double",
		Doc:       "Returns a·b / (|a| |b|), in [-1, 1]. NULL when either vector is all zeros; different lengths are a runtime error of class expr.",
		Examples:  []Example{{"COSINE_SIMILARITY(VECTOR(1, 0), VECTOR(0, 1))", "0"}, {"COSINE_SIMILARITY(VECTOR(1, 1), VECTOR(2, 2))", "1"}, {"COSINE_SIMILARITY(VECTOR(0, 0), VECTOR(1, 2))", "NULL"}},
		Eval:      evalCosine,
	},
}

// Syntax is a construct the planner evaluates itself but the reference
// documents next to the functions (CASE).
type Syntax struct {
	Name, Category, Signature, Doc string
	Examples                       []Example
}

// syntaxes are documented, not looked up: Lookup("CASE") is false.
var syntaxes = []Syntax{{
	Name: "CASE", Category: catCond,
	Signature: "CASE WHEN cond THEN x [WHEN ...] [ELSE y] END | CASE v WHEN a THEN x [...] [ELSE y] END",
	Doc: "SQL syntax, evaluated by the planner: the first branch whose cond is true (or whose a equals v) " +
		"gives the result; a NULL cond is not true; without a matching branch, ELSE or NULL. Result types unify " +
		"as for COALESCE.",
	Examples: []Example{{"CASE WHEN amount > 1000 THEN 'high' ELSE 'low' END", ""}},
}}

// Syntaxes returns the documented syntax constructs.
func Syntaxes() []Syntax { return syntaxes }

// Categories of the reference, in the order it prints them.
const (
	catString = "String"
	catMath   = "Math"
	catTime   = "Time"
	catCond   = "Conditional"
	catHash   = "Hashing"
	catJSON   = "JSON"
	catVector = "Vector"
)

// categories lists the categories of Funcs in reference order.
var categories = []string{catString, catMath, catTime, catCond, catHash, catJSON, catVector}
