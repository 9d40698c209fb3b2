package auth

import (
	"context"
	"testing"
)

// BenchmarkHash measures one argon2id hash at DefaultParams: the cost of
// every login and signup, and so what the hashing pool bounds.
func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}
