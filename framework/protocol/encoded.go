package protocol

import (
	"encoding/json"
	"errors"
)

// Encoded is a value of type T already encoded as JSON. The daemon uses
// it where one encoding is shared by many replies (the indicator
// snapshot is encoded once for every subscriber by hand, several times
// faster than by reflection); the type parameter keeps the result typed
// for the contract and for clients, and a test holds the bytes to T.
type Encoded[T any] []byte

// MarshalJSON writes the encoding as it is.
func (e Encoded[T]) MarshalJSON() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	return e, nil
}

// UnmarshalJSON keeps a copy of the encoding.
func (e *Encoded[T]) UnmarshalJSON(b []byte) error {
	if e == nil {
		return errors.New("protocol: UnmarshalJSON on nil Encoded")
	}
	*e = append((*e)[:0], b...)
	return nil
}

// Decode decodes the encoding into a T.
func (e Encoded[T]) Decode() (T, error) {
	var v T
	err := json.Unmarshal(e, &v)
	return v, err
}
