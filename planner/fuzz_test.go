package planner

import (
	"strconv"
	"testing"

	"github.com/flowrun/flowrun/spec"
)

// FuzzPlan plans a job whose one SQL stage is random text: the planner must
// not panic, and every diagnostic must have a position.
//
//	go test ./planner -run '^$' -fuzz FuzzPlan -fuzztime 60s
func FuzzPlan(f *testing.F) {
	for _, s := range []string{
		"SELECT tx_id, amount FROM tx WHERE amount > 100",
		"SELECT user_id, TUMBLE_END(ts, INTERVAL 1 MINUTE) AS w, COUNT(*) AS n FROM tx GROUP BY user_id, TUMBLE(ts, INTERVAL 1 MINUTE)",
		"SELECT user_id, HOP_END(ts, INTERVAL 1 MINUTE, INTERVAL 5 MINUTE), AVG(amount) FROM tx GROUP BY user_id, HOP(ts, INTERVAL 1 MINUTE, INTERVAL 5 MINUTE) HAVING COUNT(*) > 2",
		"SELECT user_id, SESSION_START(ts, INTERVAL 30 SECOND) AS s, COUNT(DISTINCT url) FROM clicks GROUP BY user_id, SESSION(ts, INTERVAL 30 SECOND)",
		"SELECT c.url, t.amount FROM clicks AS c LEFT JOIN tx AS t ON c.user_id = t.user_id AND t.ts BETWEEN c.ts AND c.ts + INTERVAL 10 MINUTE WHERE t.amount > 1",
		"SELECT CASE WHEN amount > 1 THEN 'a' ELSE 'b' END, CAST(amount AS SIGNED), LOWER(merchant), COALESCE(is_fraud, FALSE) FROM tx",
		"SELECT user_id, COUNT(*) FROM tx GROUP BY user_id",
		"SELECT * FROM tx WHERE merchant LIKE 'a%' AND country IN ('DE', 'FR') AND amount BETWEEN 1 AND 2 AND is_fraud IS NOT NULL",
		"SELECT PREDICT(fraud, amount), MODEL_VERSION(fraud) FROM tx",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"SELECT a FROM (SELECT 1 AS a) AS s ORDER BY a LIMIT 1",
		"SELECT `key`, key FROM tx",
		"SELECT -(-(-amount)) / 0 % 3 FROM tx WHERE NOT NOT (1 = 1)",
		"SELECT TIMESTAMP('2026-01-01'), ts - INTERVAL 1 DAY FROM tx",
		"SELECT user_id, ts FROM tx UNION ALL SELECT user_id, ts FROM clicks UNION ALL (SELECT name, signup FROM users)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if len(sql) > 4096 {
			return
		}
		src := prelude + `  models:
    - name: fraud
      algorithm: logistic_regression
      from: tx
      features: [amount]
      label: is_fraud
  stages:
    - name: s
      sql: ` + strconv.Quote(sql) + `
  sinks:
    - name: out
      from: s
      jetstream: {stream: OUT, subject: out.s}
`
		ps, ds := spec.Parse("fuzz.yaml", []byte(src))
		checkPositions(t, ds)
		for _, p := range ps {
			g, ds := Plan(p)
			checkPositions(t, ds)
			if g != nil {
				_ = g.String()
				if err := g.Validate(); err != nil {
					t.Errorf("invalid graph for %q: %v", sql, err)
				}
			}
		}
	})
}

func checkPositions(t *testing.T, ds spec.Diagnostics) {
	t.Helper()
	for _, d := range ds {
		if d.Pos.Line <= 0 || d.Pos.Col <= 0 {
			t.Errorf("diagnostic without a position: %v", d)
		}
	}
}
