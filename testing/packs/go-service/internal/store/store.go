// Package store keeps inventory items in memory.
package store

import (
	"errors"
	"sync"
)

// ErrNotFound is returned for an unknown SKU.
var ErrNotFound = errors.New("item not found")

// Item is one stock-keeping unit and its count.
type Item struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
}

// Store is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	items map[string]Item
}

// New returns an empty store.
func New() *Store {
	return &Store{items: make(map[string]Item)}
}

// Get returns the item with the given SKU.
func (s *Store) Get(sku string) (Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	item, ok := s.items[sku]
	if !ok {
		return Item{}, ErrNotFound
	}
	return item, nil
}

// Put stores the item, replacing any with the same SKU.
func (s *Store) Put(item Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[item.SKU] = item
}
