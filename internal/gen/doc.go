// Package gen generates deterministic event streams for demos, tests and
// benchmarks: card transactions with injected fraud patterns and late
// labels (Transactions), and the Nexmark auction events (Nexmark).
//
// Every generator is a pure function of its Config (including the seed):
// the same configuration yields byte-identical output, so golden files and
// benchmarks are reproducible.
//
// Example:
//
//	flowrun gen transactions --count 50000 --out demo/
//	# demo/tx.jsonl: {"tx_id":"t00000001","user_id":"u00042","amount":23.17,...}
//	# demo/labels.jsonl: {"tx_id":"t00000001","is_fraud":false,"ts":"..."}
package gen
