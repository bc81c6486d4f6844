// Command ledger serves account balances over HTTP.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

type account struct {
	ID      int     `json:"id"`
	Owner   string  `json:"owner"`
	Balance float64 `json:"balance"`
}

var accounts = func() []account {
	out := make([]account, 0, 1000)
	for i := 1; i <= 1000; i++ {
		out = append(out, account{ID: i, Owner: "owner-" + strconv.Itoa(i), Balance: float64(i*37%1000) / 10})
	}
	return out
}()

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/v1/accounts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, accounts[:50])
	})
	mux.HandleFunc("/v1/accounts/", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/v1/accounts/"))
		if err != nil || id < 1 || id > len(accounts) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such account"})
			return
		}
		writeJSON(w, http.StatusOK, accounts[id-1])
	})
	mux.HandleFunc("/v1/stats", func(w http.ResponseWriter, r *http.Request) {
		balances := make([]float64, len(accounts))
		for i, a := range accounts {
			balances[i] = a.Balance
		}
		sort.Float64s(balances)
		writeJSON(w, http.StatusOK, map[string]float64{"median": balances[len(balances)/2]})
	})

	log.Printf("ledger listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
