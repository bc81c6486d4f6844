package main

import "testing"

func TestAccounts(t *testing.T) {
	if len(accounts) != 1000 {
		t.Fatalf("got %d accounts", len(accounts))
	}
}
