package streambench

import (
	"math"
	"testing"
)

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []float64
		q    float64
		want float64
	}{
		{"none", nil, 0.5, 0},
		{"one", []float64{0.8}, 0.25, 0.8},
		{"two, lower quartile", []float64{1, 0}, 0.25, 0.25},
		{"median of five, unsorted", []float64{5, 1, 4, 2, 3}, 0.5, 3},
		{"lower quartile of five", []float64{5, 1, 4, 2, 3}, 0.25, 2},
		{"upper quartile of four", []float64{1, 2, 3, 4}, 0.75, 3.25},
		{"the largest", []float64{1, 2, 3, 4}, 1, 4},
		{"median of four: the middle two's mean", []float64{4, 1, 3, 2}, 0.5, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.v, tc.q); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("quantile(%v, %v) = %v, want %v", tc.v, tc.q, got, tc.want)
			}
		})
	}
}

// TestWriteRatesFinish: each ratio is the median of the repetitions' own
// ratios (each against the baseline of its repetition: the one on CPU 0 for
// the streaming producer when there is one), and its quartiles are those
// ratios' too, not ratios of medians.
func TestWriteRatesFinish(t *testing.T) {
	w := WriteRates{
		AllNone:      []float64{100, 200, 100, 100, 100},
		AllIdle:      []float64{80, 100, 90, 70, 60}, // 0.8, 0.5, 0.9, 0.7, 0.6
		AllNoneSplit: []float64{50, 100, 100, 100, 100},
		AllLive:      []float64{50, 90, 80, 70, 85}, // 1.0, 0.9, 0.8, 0.7, 0.85
		AllIdleSplit: []float64{40, 80, 80, 80, 80}, // 0.8 each
	}
	w.finish()
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("RatioIdle", w.RatioIdle, 0.7)
	near("QuartilesIdle[0]", w.QuartilesIdle[0], 0.6)
	near("QuartilesIdle[1]", w.QuartilesIdle[1], 0.8)
	near("RatioLive", w.RatioLive, 0.85)
	near("QuartilesLive[0]", w.QuartilesLive[0], 0.8)
	near("QuartilesLive[1]", w.QuartilesLive[1], 0.9)
	near("RatioIdleSplit", w.RatioIdleSplit, 0.8)
	near("None", w.None, 100)
	near("NoneSplit", w.NoneSplit, 100)
}
