package mlops

import (
	"testing"

	"github.com/flowrun/flowrun/executor/jetstream"
)

func TestSeqOfRowID(t *testing.T) {
	for _, seq := range []uint64{1, 2, 1000, 1 << 33} {
		if got := jetstream.SeqOfRowID("SMS", jetstream.RowID("SMS", seq)); got != seq {
			t.Fatalf("SeqOfRowID(RowID(%d)) = %d", seq, got)
		}
	}
}
