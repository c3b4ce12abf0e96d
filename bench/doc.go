// Package bench compares TeleCart's hot paths with their peers in other
// libraries. It is a module of its own, so the peers never enter the
// library's go.mod: run it from this folder with
//
//	go test -run '^$' -bench . -benchmem -count 5
package bench
