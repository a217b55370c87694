package jsonscan

import (
	"fmt"

	gojson "github.com/goccy/go-json"
)

// Decode decodes a whole document into v with goccy/go-json, a decoder
// that accepts and reads what encoding/json does in half the time or less
// (the connectors' tests hold their one-pass decodes to encoding/json's
// decodes in turn, fuzzing included). A panic inside the decoder, on
// whatever input a source sends, is an error like any undecodable
// document: the caller then decodes in turn with encoding/json.
func Decode(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jsonscan: decoder panicked: %v", r)
		}
	}()
	return gojson.Unmarshal(b, v)
}
