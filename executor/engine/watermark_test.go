package engine

import (
	"testing"

	"github.com/flowrun/flowrun/executor"
)

func TestMinWatermark(t *testing.T) {
	const max = executor.MaxWatermark
	for _, c := range []struct {
		name  string
		slots []slot
		want  int64
	}{
		{"minimum over active inputs", []slot{{wm: 10}, {wm: 5}, {wm: 7}}, 5},
		{"an idle input does not hold back", []slot{{wm: 10}, {wm: 5, idle: true}}, 10},
		{"an ended input does not hold back", []slot{{wm: 10}, {wm: max, ended: true}}, 10},
		{"all idle: the highest", []slot{{wm: 10, idle: true}, {wm: 5, idle: true}}, 10},
		// The case that fired every window of a join too early: one input
		// ended, the other merely quiet.
		{"ended plus idle: the idle input's, not +inf", []slot{{wm: max, ended: true}, {wm: 5, idle: true}}, 5},
		{"all ended", []slot{{wm: max, ended: true}, {wm: max, ended: true}}, max},
	} {
		tk := &task{slots: c.slots}
		if got := tk.minWatermark(); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}
