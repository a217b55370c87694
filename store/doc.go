// Package store persists the canonical model in PostgreSQL through pgx/v5: the
// embedded schema migrations, the bulk write path used by synchronisation, and
// the read queries the API needs.
//
// # Changing the schema
//
//  1. Add migrations/NNN_what.sql (never edit a migration that has shipped;
//     tern applies files in order and records the version in schema_version).
//  2. Run `go test ./store -run TestSchemaGolden -update` to refresh
//     testdata/schema.golden, and read its diff: it is the reviewed shape of the
//     database.
//  3. Add or adjust read queries and write paths here; keep every list query
//     keyset-paginated and every relation loadable in one statement for many
//     keys (`= ANY($1)`) so that the API's dataloaders stay N+1 free.
//
// store imports the canonical model (canon) and nothing else of the hub.
package store
