package store

// SearchGrams is searchGrams, for the package's external tests.
var SearchGrams = searchGrams
