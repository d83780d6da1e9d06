package window

// timerQueue holds, per window end, the keys with a window (or a session
// clean-up) due then. Entries are hints: fire checks that the window is
// still there, so a merged session's stale end costs only a lookup.
type timerQueue struct {
	ends endHeap
	keys map[int64][]string
}

func (q *timerQueue) Len() int { return len(q.ends) }

func (q *timerQueue) peek() int64 { return q.ends[0] }

func (q *timerQueue) add(end int64, key string) {
	if q.keys == nil {
		q.keys = make(map[int64][]string)
	}
	ks, ok := q.keys[end]
	if !ok {
		q.ends.push(end)
	}
	q.keys[end] = append(ks, key)
}

func (q *timerQueue) pop() (int64, []string) {
	end := q.ends.pop()
	ks := q.keys[end]
	delete(q.keys, end)
	return end, ks
}

// endHeap is a min-heap of int64 (container/heap would box every value).
type endHeap []int64

func (h *endHeap) push(x int64) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *endHeap) pop() int64 {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && a[l] < a[m] {
			m = l
		}
		if r := l + 1; r < n && a[r] < a[m] {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
