package jetstream

import (
	"errors"
	"strings"
	"testing"
)

// Two embedded servers never share a store: the second Connect fails with
// ErrStoreInUse naming how to reach the first; after Close the store is free.
func TestConnectLocksStore(t *testing.T) {
	store := t.TempDir()
	c1, err := Connect(t.Context(), Options{StoreDir: store, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Connect(t.Context(), Options{StoreDir: store})
	if !errors.Is(err, ErrStoreInUse) || !strings.Contains(err.Error(), "--nats nats://127.0.0.1:0") {
		t.Fatalf("second Connect on the store: %v", err)
	}
	c1.Close()
	c2, err := Connect(t.Context(), Options{StoreDir: store})
	if err != nil {
		t.Fatalf("Connect after Close: %v", err)
	}
	c2.Close()
}
