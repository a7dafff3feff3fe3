package filter

// Walk calls fn for e and then, if fn returns true, for each of e's
// children, depth first and in source order (pre-order).
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *Logical:
		Walk(e.Left, fn)
		Walk(e.Right, fn)
	case *Not:
		Walk(e.X, fn)
	case *Paren:
		Walk(e.X, fn)
	}
}

// Paths returns the path of every comparison in e, in source order,
// duplicates included (callers that need a set dedupe themselves).
func Paths(e Expr) []Path {
	var ps []Path
	Walk(e, func(x Expr) bool {
		if c, ok := x.(*Compare); ok {
			ps = append(ps, c.Path)
		}
		return true
	})
	return ps
}
