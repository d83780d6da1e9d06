package jetstream

// SeqOfRowID inverts RowID: for id = RowID(stream, seq) it returns seq. For
// any other id the result is an arbitrary number; callers that cannot know
// where an id came from (the model trainer, recording the stream range a
// version learned from) keep only plausible results. Owned by
// executor/mlops.
func SeqOfRowID(stream string, id uint64) uint64 { return unmix64(id) - fnv64(stream) }

// unmix64 is the inverse of mix64 (each xorshift and odd multiplication
// undone in reverse order).
func unmix64(x uint64) uint64 {
	x ^= x>>31 ^ x>>62
	x *= 0x319642b2d24d8ec3 // inverse of 0x94d049bb133111eb mod 2^64
	x ^= x>>27 ^ x>>54
	x *= 0x96de1b173f119089 // inverse of 0xbf58476d1ce4e5b9 mod 2^64
	x ^= x>>30 ^ x>>60
	return x
}
