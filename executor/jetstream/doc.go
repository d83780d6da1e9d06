// Package jetstream is flowrun's I/O over NATS JetStream: the embedded
// server, connections, sources (pull consumers decoding JSON and CSV into
// typed rows), sinks (async publish with deterministic Nats-Msg-Id, KV
// upserts) and the dead-letter stream.
//
// A source node of the physical plan
//
//	Source[orders] stream=ORDERS subjects=[orders.>] columns=[id amount ts]
//
// becomes a *Source whose Run sends batches of udf.Rows, watermarks and, in
// bounded mode, end-of-input to the runtime:
//
//	conn, _ := jetstream.Connect(ctx, jetstream.Options{StoreDir: ".flowrun"})
//	src, _ := jetstream.NewSource(conn, "job", node, jetstream.SourceOptions{Bounded: true, DLQ: dlq})
//	err := src.Run(ctx, func(m executor.Message) error { ...; return nil })
//
// Records that fail to decode go to the stream FLOWRUN_DLQ, subject
// flowrun.dlq.<job>.<stage>, with the headers Flowrun-Class,
// Flowrun-Reason, Flowrun-Stage, Flowrun-Subject and Flowrun-Seq.
package jetstream
