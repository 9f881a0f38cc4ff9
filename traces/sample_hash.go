package traces

import (
	"crypto/sha256"
	"encoding/hex"
)

// SampleSHA256 is the sha256 of the embedded sample trace's bytes as stored (xz), in hex,
// as for a trace file.
func SampleSHA256() string {
	s := sha256.Sum256(sample)
	return hex.EncodeToString(s[:])
}
