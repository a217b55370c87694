package store

// SearchGrams is searchGrams, for the package's external tests.
var SearchGrams = searchGrams

// SetCopyRowsAbove sets copyRowsAbove for one test.
func SetCopyRowsAbove(t interface{ Cleanup(func()) }, n int) {
	was := copyRowsAbove
	copyRowsAbove = n
	t.Cleanup(func() { copyRowsAbove = was })
}

// LoadIndexes is loadIndexes, for the package's external tests.
var LoadIndexes = loadIndexes
