// Package canon is the canonical model of the hub: the types every source
// system is normalised into, the enumerations of the unified case lifecycle,
// and the application error type whose codes map one-to-one onto GraphQL
// extensions.code.
//
// canon imports nothing from the hub. Connectors produce canon records, the
// store persists them, and the API serves them; all of them depend inward on
// this package and never on each other.
package canon
